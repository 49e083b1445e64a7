// Stored files of attachment fields: where one is read (`/api/v1/files/{id}`, the session
// cookie is enough for links and images), which are shown as pictures (the types the server
// serves inline), and sizes as people read them. Pure, so it is unit-tested.
import { apiPath } from '../../../api/client';
import type { FileDescriptor } from '../../../api/types';

const IMAGE_TYPES = ['image/png', 'image/jpeg', 'image/gif', 'image/webp'];

export function fileUrl(id: string): string {
  return apiPath`/api/v1/files/${id}`;
}

export function isImage(file: FileDescriptor): boolean {
  return IMAGE_TYPES.includes(file.content_type);
}

/** Kilobytes below a megabyte, else megabytes with one decimal. */
export function fileSize(bytes: number): string {
  return bytes < 1024 * 1024 ? `${Math.max(1, Math.ceil(bytes / 1024))} KB` : `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

/**
 * An attachment value as files: the server writes descriptors, an edit in progress may hold
 * bare ids (named `unnamed` until known).
 */
export function asFiles(value: unknown, unnamed: string): FileDescriptor[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((item: unknown) => {
    if (typeof item === 'string') return [{ id: item, name: unnamed, size: 0, content_type: '' }];
    if (typeof item === 'object' && item !== null && typeof (item as FileDescriptor).id === 'string') return [item as FileDescriptor];
    return [];
  });
}
