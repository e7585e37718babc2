// What nearly every file of the network service uses.
global using System.Data.Common;
global using System.Text.Json.Nodes;
global using Microsoft.AspNetCore.Builder;
global using Microsoft.AspNetCore.Http;
global using Microsoft.AspNetCore.Routing;
global using Microsoft.EntityFrameworkCore;
global using Stratus.Core.Auth;
global using Stratus.Core.Data;
global using Stratus.Core.Http;
global using Stratus.Core.Policy;
global using Stratus.Network.Data;
