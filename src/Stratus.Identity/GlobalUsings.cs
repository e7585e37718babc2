// What nearly every file of the identity service uses.
global using System.Text.Json.Nodes;
global using Microsoft.AspNetCore.Builder;
global using Microsoft.AspNetCore.Http;
global using Microsoft.AspNetCore.Routing;
global using Microsoft.EntityFrameworkCore;
global using Stratus.Core.Http;
global using Stratus.Core.Policy;
global using Stratus.Identity.Data;
// The catalog endpoint, not ASP.NET Core routing's Endpoint.
global using Endpoint = Stratus.Identity.Catalog.Endpoint;
