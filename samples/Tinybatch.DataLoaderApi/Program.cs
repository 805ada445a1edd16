using Tinybatch;
using Tinybatch.DataLoaderApi;
using Tinybatch.DataLoaderApi.Data;

WebApplicationBuilder builder = WebApplication.CreateBuilder(args);
builder.Services.AddSingleton<SqlStatementCounter>();
builder.Services.AddSingleton<BlogDatabase>();
builder.Services.AddSingleton<BlogRepository>();

// One loader per request: its cache lives as long as the request, and it is disposed with the request's scope.
builder.Services.AddScoped(sp => new DataLoader<int, Author>(
    sp.GetRequiredService<BlogRepository>().GetAuthorsAsync,
    new DataLoaderOptions<int> { Name = "authors" }));

WebApplication app = builder.Build();
app.Services.GetRequiredService<BlogDatabase>(); // create and seed before the first request
app.MapPostEndpoints();
app.Run();
