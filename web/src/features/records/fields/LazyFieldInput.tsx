// FieldInput loaded on first use (inline edit, bulk edit, filters), so a list view's first
// paint does not wait for the editors (date pickers, number inputs, relation lookups).
import { Spin } from 'antd';
import { lazy, Suspense } from 'react';
import type { FieldInputProps } from './FieldInput';

const FieldInputChunk = lazy(() => import('./FieldInput').then((m) => ({ default: m.FieldInput })));

export function LazyFieldInput(props: FieldInputProps) {
  return (
    <Suspense fallback={<Spin size="small" />}>
      <FieldInputChunk {...props} />
    </Suspense>
  );
}
