using PagesAnalytics.Cli;

return await PagesCli.RunAsync(args, CliContext.FromConsole());
