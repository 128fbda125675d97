// Child process for the store tests: records stage completions in a loop and prints one JSON line per
// acknowledged (returned, hence committed) write. Usage: progress-writer.fixture.ts <db> <userId> <courseId> <count|forever>
import { writeSync } from 'node:fs';
import { openProgressStore } from '../../src/db/progress.ts';

const [dbPath, userId, courseId, countArg] = process.argv.slice(2);
if (!dbPath || !userId || !courseId || !countArg) {
  console.error('usage: progress-writer.fixture.ts <db> <userId> <courseId> <count|forever>');
  process.exit(2);
}
const count = countArg === 'forever' ? Number.POSITIVE_INFINITY : Number(countArg);
const store = openProgressStore(dbPath, { busyTimeoutMs: 30_000 });
process.stdout.write('ready\n');
for (let stage = 1; stage <= count; stage++) {
  const result = store.recordStageComplete({ userId, courseId, stage, source: 'marker' });
  // writeSync: the line leaves the process before the next write starts, so "printed" implies "committed".
  const line = JSON.stringify({ stage: result.stage, completedAt: result.completedAt, newly: result.newlyCompleted }) + '\n';
  writeSync(1, line);
}
store.close();
