// Segments' server state: names for the types of /api/v1/cdp/segments, snapshots, tags and
// lineage (from the generated schema), their query keys and paths (docs/SEGMENTS.md).
import { useQueryClient } from '@tanstack/react-query';
import type { components } from '../../api/schema';
import { cdpPath } from '../cdp/api';

type Schemas = components['schemas'];

/** A saved segment (人群包); state `building`, `live` or `archived`. */
export type Segment = Schemas['Segment'];
export type SegmentInput = Schemas['SegmentInput'];
export type SegmentPatch = Schemas['SegmentPatch'];
/** A customer in a segment or a preview. */
export type Member = Schemas['Member'];
export type MemberPage = Schemas['MemberPage'];
/** A customer frozen in a snapshot. */
export type SnapshotMember = Schemas['SnapshotMember'];
export type Preview = Schemas['Preview'] & {
  /** False when the count is a lower bound (docs/SEGMENTS.md; not sent by every server yet). */
  complete?: boolean;
};
export type Evaluation = Schemas['FullReport'];
export type Change = Schemas['ChangeEntry'];
export type ChangePage = Schemas['ChangePage'];
export type Version = Schemas['SegmentVersion'];
export type Snapshot = Schemas['Snapshot'];
export type SnapshotDiff = Schemas['Diff'];
export type PushReport = Schemas['PushReport'];
/** A tag on a customer: from a segment (while a member) or set by hand. */
export type CustomerTag = Schemas['Tag'];
/** A segment the customer belongs to. */
export type Membership = Schemas['Membership'];
export type Lineage = Schemas['Lineage'];
export type TestLineage = Schemas['TestLineage'];
export type LineageEvent = Schemas['LineageEvent'];

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
