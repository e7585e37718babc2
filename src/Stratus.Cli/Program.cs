return await Stratus.Cli.Commands.RunAsync(args);
