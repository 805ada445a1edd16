namespace Tinybatch;

/// <summary>What a load gets when the fetch's answer has no entry for its key.</summary>
public enum MissingKeyBehavior
{
    /// <summary>The load fails with a <see cref="KeyNotFoundException"/> that names the key. The default.</summary>
    Throw = 0,

    /// <summary>The load returns <see langword="default"/> for the value type (null for reference types).</summary>
    ReturnDefault = 1,
}
