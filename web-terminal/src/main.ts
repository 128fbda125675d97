// Process entry: read the config, start the service, stop it cleanly on SIGTERM/SIGINT.
import { ConfigError, loadConfig } from './config.ts';
import { startService } from './server.ts';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      for (const problem of err.problems) console.error(`config error: ${problem}`);
      process.exit(1);
    }
    throw err;
  }
  const service = await startService(config);
  console.log(`web-terminal ready at ${service.url} (runtime: ${service.runtime.kind})`);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    service.logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 20_000);
    force.unref();
    service.close().then(
      () => process.exit(0),
      (err) => {
        service.logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err) => {
  console.error(`web-terminal failed to start: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
