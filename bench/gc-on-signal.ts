// Preloaded into servers under benchmark (with --expose-gc): SIGUSR2 runs a full garbage collection,
// so memory readings show what is live rather than garbage not yet collected.
process.on('SIGUSR2', () => (globalThis as { gc?: () => void }).gc?.());
