using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Tinybatch.Extensions.Hosting.Internal;

/// <summary>
/// Validates one named batcher's options: the core's <see cref="BatcherOptions.Validate"/> (retry policy included), values in
/// the bound configuration section that did not parse, and a missing handler, all reported together.
/// </summary>
internal sealed class BatcherOptionsValidator<TJob, TResult>(BatcherRegistration<TJob, TResult> registration, IServiceProvider services)
    : IValidateOptions<BatcherOptions<TJob, TResult>>
{
    public ValidateOptionsResult Validate(string? name, BatcherOptions<TJob, TResult> options)
    {
        if (name != registration.Name)
        {
            return ValidateOptionsResult.Skip;
        }

        var errors = new List<string>();
        if (registration.SectionPath is { } path && services.GetService<IConfiguration>() is { } configuration)
        {
            // Binding skipped these values; reading the section again names them and where they came from.
            BatcherConfigurationReader.Bind(configuration.GetSection(path), new BatcherOptions<TJob, TResult>(), errors);
        }

        // The core's checks, the retry policy's included.
        errors.AddRange(options.Validate());
        if (registration.Handler is null)
        {
            errors.Add("No handler: call WithHandler after AddBatcher.");
        }

        return errors.Count == 0
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail(errors.Select(e => $"Batcher '{name}': {e}"));
    }
}
