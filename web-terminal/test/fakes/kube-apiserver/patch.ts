// PATCH of a pod as the apiserver does it for a JSON merge patch (RFC 7386): labels and annotations
// change freely; of the spec of an existing pod only activeDeadlineSeconds may change, and only get
// shorter (the apiserver's pod update validation); anything else is 422 Invalid.
import type { V1Pod } from '@kubernetes/client-node';
import { failure, invalid, type StatusBody } from './status.ts';

const MERGE_TYPES = ['application/merge-patch+json', 'application/strategic-merge-patch+json'];

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** RFC 7386: objects merge key by key, null deletes, anything else replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return patch;
  const result: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

const stringMap = (value: unknown) => value === null || (isObject(value) && Object.values(value).every((v) => v === null || typeof v === 'string'));

/** Applies `body` to `pod` (a copy), or answers the Status the apiserver would. */
export function patchPod(pod: V1Pod, contentType: string | undefined, body: string): V1Pod | StatusBody {
  if (!MERGE_TYPES.includes((contentType ?? '').split(';')[0]!.trim())) {
    return failure(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${MERGE_TYPES.join(', ')}`);
  }
  let patch: unknown;
  try {
    patch = JSON.parse(body);
  } catch {
    return failure(400, 'BadRequest', 'the request body is not JSON');
  }
  if (!isObject(patch)) return failure(400, 'BadRequest', 'a merge patch must be an object');
  const { metadata, spec, ...rest } = patch;
  if (Object.keys(rest).length > 0) return invalid(`Pod "${pod.metadata?.name}" is invalid: only metadata and spec may be patched here`);
  if (metadata !== undefined) {
    if (!isObject(metadata)) return invalid('metadata must be an object');
    const { labels, annotations, ...other } = metadata;
    if (Object.keys(other).length > 0 || (labels !== undefined && !stringMap(labels)) || (annotations !== undefined && !stringMap(annotations))) {
      return invalid(`Pod "${pod.metadata?.name}" is invalid: metadata: only labels and annotations (string values) may change`);
    }
  }
  if (spec !== undefined) {
    const current = pod.spec?.activeDeadlineSeconds;
    const next = isObject(spec) ? spec.activeDeadlineSeconds : undefined;
    const onlyDeadline = isObject(spec) && Object.keys(spec).length === 1 && typeof next === 'number' && Number.isInteger(next) && next > 0;
    if (!onlyDeadline || (current !== undefined && next > current)) {
      return invalid(`Pod "${pod.metadata?.name}" is invalid: spec: Forbidden: pod updates may not change fields other than \`spec.containers[*].image\`, \`spec.initContainers[*].image\`, \`spec.activeDeadlineSeconds\` (only to a smaller positive value), \`spec.tolerations\` (only additions to existing tolerations) or \`spec.terminationGracePeriodSeconds\``);
    }
  }
  return mergePatch(pod, patch) as V1Pod;
}
