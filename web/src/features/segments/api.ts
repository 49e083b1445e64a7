// Segments' server state: the types of /api/v1/cdp/segments, snapshots, tags and lineage, their
// query keys and the paths of the calls (docs/SEGMENTS.md).
import { useQueryClient } from '@tanstack/react-query';
import { cdpPath } from '../cdp/api';

/** A saved segment (人群包); `condition` only on `GET /segments/{id}`. */
export interface Segment {
  id: string;
  name: string;
  description: string;
  tag?: string | null;
  version: number;
  state: string;
  member_count: number;
  evaluated_at?: string | null;
  created_at: string;
  updated_at: string;
  condition?: unknown;
}

export interface SegmentInput {
  name?: string;
  description?: string;
  tag?: string | null;
  condition?: unknown;
}

/** A customer in a segment, a preview or a snapshot. */
export interface Member {
  profile_id: string;
  contact_id?: string | null;
  contact_name?: string | null;
  email?: string | null;
  phone?: string | null;
  user_id?: string | null;
  entered_at?: string | null;
  version?: number | null;
}

export interface Preview {
  count: number;
  sample: Member[];
  /** False when the count is a lower bound (a behaviour still being counted). */
  complete?: boolean;
  took_ms: number;
}

export interface Evaluation {
  members: number;
  entered: number;
  exited: number;
  took_ms: number;
}

export interface Paged<T> {
  items: T[];
  next_cursor?: string | null;
}

export interface Change {
  seq: number;
  profile_id: string;
  /** `entered` or `exited`. */
  change: string;
  at: string;
  version: number;
  cause: unknown;
}

export interface Version {
  version: number;
  condition: unknown;
  created_at: string;
  created_by?: string | null;
}

export interface Snapshot {
  id: string;
  segment_id: string;
  name: string;
  version: number;
  condition?: unknown;
  taken_at: string;
  member_count: number;
}

export interface SnapshotDiff {
  joined: number;
  left: number;
  joined_sample: Member[];
  left_sample: Member[];
}

/** A tag on a customer: from a segment (while a member) or set by hand. */
export interface CustomerTag {
  tag: string;
  /** `segment` or `manual`. */
  source: string;
  segment_id?: string | null;
  segment_name?: string | null;
  since: string;
  created_by?: string | null;
}

/** A segment the customer belongs to. */
export interface Membership {
  segment_id: string;
  segment_name: string;
  tag?: string | null;
  version: number;
  entered_at: string;
}

export interface LineageEvent {
  seq: number;
  /** The event type (`$page` etc. for non-track calls). */
  event: string;
  ts: string;
  source_id: string;
  message_id: string;
  properties: Record<string, unknown>;
}

/** One test of the definition and what satisfied it. */
export interface TestLineage {
  /** `behavior`, `trait` or `field`. */
  kind: string;
  /** The test as written in the definition. */
  test: unknown;
  /** Under an odd number of `not`s. */
  negated: boolean;
  count?: number | null;
  /** Whether the test itself (before any `not`) held. */
  passed?: boolean | null;
  /** The events that satisfied it, oldest first. */
  events: LineageEvent[];
  /** A trait's value. */
  value?: unknown;
}

export interface Lineage {
  segment_id: string;
  segment_name: string;
  profile_id: string;
  member: boolean;
  version: number;
  condition: unknown;
  entered_at?: string | null;
  /** The moment explained: the entry, or now for a non-member. */
  as_of: string;
  tests: TestLineage[];
  /** Every event shown, in time order. */
  chain: LineageEvent[];
}

export const segmentPath = (path = '') => cdpPath(`/segments${path}`);
export const snapshotPath = (path = '') => cdpPath(`/snapshots${path}`);

export const segmentKeys = {
  all: ['segments'] as const,
  list: ['segments', 'list'] as const,
  one: (id: string) => ['segments', 'one', id] as const,
  members: (id: string) => ['segments', 'members', id] as const,
  changes: (id: string) => ['segments', 'changes', id] as const,
  versions: (id: string) => ['segments', 'versions', id] as const,
  snapshots: (id: string) => ['segments', 'snapshots', id] as const,
  snapshotMembers: (id: string) => ['segments', 'snapshot-members', id] as const,
  diff: (a: string, b: string) => ['segments', 'diff', a, b] as const,
  preview: (key: string) => ['segments', 'preview', key] as const,
  contactTags: (contactId: string) => ['segments', 'contact-tags', contactId] as const,
  memberships: (profileId: string) => ['segments', 'memberships', profileId] as const,
  lineage: (profileId: string, segmentId: string) => ['segments', 'lineage', profileId, segmentId] as const,
};

/** Refreshes every segment query after a change. */
export function useInvalidateSegments() {
  const client = useQueryClient();
  return () => client.invalidateQueries({ queryKey: segmentKeys.all });
}
