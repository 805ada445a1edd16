namespace Tinybatch;

/// <summary>
/// Thrown by an add when the job alone weighs more than one job may: more than <see cref="BatcherOptions.MaxJobWeight"/>,
/// or than <see cref="BatcherOptions.MaxBatchWeight"/> or <see cref="BatcherOptions.MaxBufferedWeight"/>, which nothing
/// could hold.
/// </summary>
public class JobTooHeavyException : ArgumentException
{
    /// <summary>Initializes a new instance with a default message.</summary>
    public JobTooHeavyException()
        : base("The job weighs more than the batch weight cap.")
    {
    }

    /// <summary>Initializes a new instance with a message.</summary>
    /// <param name="message">The message.</param>
    public JobTooHeavyException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance with a message and an inner exception.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public JobTooHeavyException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Gets the weight of the refused job.</summary>
    public long Weight { get; init; }

    /// <summary>Gets the cap it exceeded.</summary>
    public long MaxWeight { get; init; }

    /// <summary>Gets the name of the option that set the cap it exceeded, for example <c>MaxJobWeight</c>.</summary>
    public string? LimitName { get; init; }
}
