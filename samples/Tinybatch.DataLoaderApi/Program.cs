using Tinybatch;
using Tinybatch.DataLoaderApi;
using Tinybatch.DataLoaderApi.Data;

WebApplicationBuilder builder = WebApplication.CreateBuilder(args);
builder.Services.AddProblemDetails();
builder.Services.AddSingleton<SqlStatementCounter>();
builder.Services.AddSingleton<BlogDatabase>();
builder.Services.AddSingleton<BlogRepository>();

// <dataloader-di>
// One loader of each kind per request (scoped): its cache lives as long as the request, and the scope disposes it.
builder.Services.AddDataLoader<int, Author>((sp, options) =>
{
    options.Name = "authors";
    return new DataLoader<int, Author>(sp.GetRequiredService<BlogRepository>().GetAuthorsAsync, options);
});
builder.Services.AddGroupedDataLoader<int, Post>((sp, options) =>
{
    options.Name = "posts-by-author";
    return new GroupedDataLoader<int, Post>(sp.GetRequiredService<BlogRepository>().GetPostsByAuthorsAsync, options);
});
// </dataloader-di>

WebApplication app = builder.Build();
app.UseExceptionHandler();
app.UseStatusCodePages();
app.Services.GetRequiredService<BlogDatabase>(); // create and seed before the first request
app.MapPostEndpoints();
app.MapAuthorEndpoints();
app.Run();
