using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Tinybatch.Extensions.Hosting.Internal;

/// <summary>
/// Validates one named batcher's options: the core's <see cref="BatcherOptions.Validate"/> (retry policy included), values in
/// the bound configuration section that did not parse, and a missing handler, all reported together.
/// </summary>
/// <param name="registration">The batcher's registration.</param>
/// <param name="rebind">Binds a section into fresh options, collecting what does not parse.</param>
/// <param name="services">The app's services, for its <see cref="IConfiguration"/>.</param>
internal sealed class BatcherOptionsValidator<TOptions>(
    BatcherRegistration registration, Action<IConfigurationSection, List<string>> rebind, IServiceProvider services)
    : IValidateOptions<TOptions>
    where TOptions : BatcherOptions
{
    public ValidateOptionsResult Validate(string? name, TOptions options)
    {
        if (name != registration.Name)
        {
            return ValidateOptionsResult.Skip;
        }

        var errors = new List<string>();
        if (registration.SectionPath is { } path && services.GetService<IConfiguration>() is { } configuration)
        {
            // Binding skipped these values; reading the section again names them and where they came from.
            rebind(configuration.GetSection(path), errors);
        }

        // The core's checks, the retry policy's included.
        errors.AddRange(options.Validate());
        if (!registration.HasHandler)
        {
            errors.Add("No handler: call WithHandler after AddBatcher.");
        }

        return errors.Count == 0
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail(errors.Select(e => $"Batcher '{name}': {e}"));
    }
}
