import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './render.ts';

const read = (path: string) => readFileSync(join(repoRoot, path), 'utf8');
const deployDocs = ['docs/deploy.md', 'docs/cluster-setup.md', 'docs/inventory.md', 'docs/runbooks/gpu-setup.md', 'docs/runbooks/troubleshooting.md'];

test('the troubleshooting runbook explains every session failure reason', () => {
  const text = read('docs/runbooks/troubleshooting.md');
  for (const reason of ['image_pull_failed', 'unschedulable', 'container_crashed', 'oom_killed', 'deadline_exceeded', 'start_timeout', 'api_error', 'aborted']) {
    const row = text.split('\n').find((l) => l.startsWith(`| \`${reason}\` |`));
    assert.ok(row, `no table row for ${reason}`);
    assert.equal(row.split(' | ').length, 3, `${reason}: the row needs a meaning and an action`);
  }
  for (const state of ['ErrImagePull', 'ImagePullBackOff', 'ErrImageNeverPull', 'InvalidImageName', 'OOMKilled', 'DeadlineExceeded', 'connection_lost']) assert.ok(text.includes(state), state);
});

test('every repository path the deploy docs mention exists', () => {
  for (const doc of deployDocs) {
    const text = read(doc);
    const paths = new Set(text.match(/\b(?:k8s-manifests|scripts|docker|docs)\/[\w./-]*[\w-]/g) ?? []);
    for (const p of paths) {
      if (p.startsWith('docker/claudecode-sandbox')) continue; // built by the sandbox image's owners
      assert.ok(existsSync(join(repoRoot, p)), `${doc} mentions ${p}, which does not exist`);
    }
  }
});

test('the cluster setup runs Phase 0 to 7 in order and says k3s enforces NetworkPolicy', () => {
  const text = read('docs/cluster-setup.md');
  const phases = [...text.matchAll(/^## Phase (\d+):/gm)].map((m) => Number(m[1]));
  assert.deepEqual(phases, [0, 1, 2, 3, 4, 5, 6, 7]);
  for (const doc of ['docs/cluster-setup.md', 'docs/deploy.md']) {
    assert.match(read(doc), /k3s enforces NetworkPolicy out of the box/, doc);
  }
  assert.match(read('docs/deploy.md'), /AUTH_ALLOW_UNAUTHENTICATED_NETWORK=true/);
});

test('the deploy docs and scripts use the same commands', () => {
  const deploy = read('docs/deploy.md');
  for (const cmd of ['scripts/build-images.sh', 'scripts/verify-node.sh', 'kubectl apply -k k8s-manifests/overlays/production', 'kubectl apply -k k8s-manifests/cluster']) {
    assert.ok(deploy.includes(cmd), cmd);
  }
  const build = read('scripts/build-images.sh');
  for (const flag of ['--tag', '--only', '--no-import', '--save-dir', '--dry-run']) {
    assert.ok(build.includes(`${flag})`), `build-images.sh lacks ${flag}`);
    assert.ok(deploy.includes(flag), `deploy.md does not mention ${flag}`);
  }
});

test('the web-terminal image: node 20 slim, repository-root context, numeric non-root user, courses at /courses', () => {
  const dockerfile = read('docker/web-terminal/Dockerfile');
  const froms = [...dockerfile.matchAll(/^FROM\s+(\S+)/gm)].map((m) => m[1]);
  assert.ok(froms.length >= 2, 'multi-stage');
  assert.match(dockerfile, /^ARG NODE_IMAGE=node:20-bookworm-slim$/m);
  assert.doesNotMatch(dockerfile, /:latest\b/);
  const user = /^USER\s+(\S+)$/m.exec(dockerfile)?.[1];
  assert.ok(user && /^[1-9]\d*:[1-9]\d*$/.test(user), `USER must be numeric uid:gid, got ${user}`);
  assert.match(dockerfile, /^COPY courses \/courses$/m);
  assert.match(dockerfile, /npm ci --omit=dev --workspace web-terminal/);
  assert.match(dockerfile, /^CMD \["node", "--import", "tsx", "src\/main\.ts"\]$/m);
  // The manifests run it as that user.
  const uid = Number(user.split(':')[0]);
  assert.match(read('k8s-manifests/base/deployment.yaml'), new RegExp(`runAsUser: ${uid}\\b`));
  for (const copied of [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => m[1]!.split(' '))) {
    assert.ok(existsSync(join(repoRoot, copied)), `the Dockerfile copies ${copied}, which does not exist`);
  }
});
