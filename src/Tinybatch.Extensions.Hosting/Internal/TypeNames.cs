using System.Text;

namespace Tinybatch.Extensions.Hosting.Internal;

/// <summary>Type names as C# writes them (<c>Batcher&lt;Order, Receipt&gt;</c>), for messages and default names.</summary>
internal static class TypeNames
{
    public static string Display(Type type)
    {
        int arity = type.Name.IndexOf('`', StringComparison.Ordinal);
        if (!type.IsGenericType || arity < 0)
        {
            return type.Name;
        }

        var name = new StringBuilder(type.Name, 0, arity, 64);
        name.Append('<').AppendJoin(", ", type.GetGenericArguments().Select(Display)).Append('>');
        return name.ToString();
    }
}
