// The sample course the browser journeys walk through, and what they read from the fake model's requests.
import { fileURLToPath } from 'node:url';
import type { RecordedRequest } from '../fakes/fake-anthropic.ts';
import type { Service } from '../../src/server.ts';

export const SAMPLE_COURSES_DIR = fileURLToPath(new URL('../../../courses', import.meta.url));
export const SAMPLE_COURSE_TITLE = 'Reading "Attention Is All You Need" (Vaswani et al., 2017)';

/** Every user turn of a Messages API request, as one text (block contents as JSON). */
export const userTexts = (req: RecordedRequest): string =>
  (req.body?.messages ?? [])
    .filter((m: { role: string }) => m.role === 'user')
    .map((m: { content: unknown }) => (typeof m.content === 'string' ? m.content : JSON.stringify(m.content)))
    .join('\n');

/** Ends every session of the service (between the steps of a journey that need a clean slate). */
export async function endAllSessions(service: Service): Promise<void> {
  for (const s of service.manager.listAll()) await service.manager.end(s.id, 'deleted');
}
