// A table header cell whose right edge resizes its column: dragged with pointer events (mouse,
// pen or touch) or moved with the arrow keys. Ending a drag is not a click on the header, which
// would sort the column. Cells without `onResize` (the selection column) are plain.
import { useRef, type KeyboardEvent, type PointerEvent, type ThHTMLAttributes } from 'react';
import { MIN_COLUMN_WIDTH } from './columnWidths';

const KEY_STEP = 16;

export interface ResizableHeaderCellProps extends ThHTMLAttributes<HTMLTableCellElement> {
  /** The column's width while it is being dragged. */
  onResize?: (width: number) => void;
  /** The width where a drag or a key press ended, to keep. */
  onResizeEnd?: (width: number) => void;
  resizeLabel?: string;
}

export function ResizableHeaderCell({ onResize, onResizeEnd, resizeLabel, onClick, children, ...rest }: ResizableHeaderCellProps) {
  const dragged = useRef(false);
  if (!onResize || !onResizeEnd) {
    return (
      <th {...rest} onClick={onClick}>
        {children}
      </th>
    );
  }

  const start = (event: PointerEvent<HTMLSpanElement>) => {
    if (event.button !== 0) return;
    event.preventDefault();
    event.stopPropagation();
    const handle = event.currentTarget;
    const startX = event.clientX;
    const startWidth = handle.parentElement?.getBoundingClientRect().width ?? MIN_COLUMN_WIDTH;
    let width = startWidth;
    let moved = false;
    handle.setPointerCapture(event.pointerId);
    const move = (e: globalThis.PointerEvent) => {
      const dx = e.clientX - startX;
      moved ||= Math.abs(dx) > 2;
      width = Math.max(MIN_COLUMN_WIDTH, startWidth + dx);
      onResize(width);
    };
    const end = () => {
      handle.removeEventListener('pointermove', move);
      handle.removeEventListener('pointerup', end);
      handle.removeEventListener('pointercancel', end);
      if (!moved) return;
      onResizeEnd(width);
      // The click that follows this pointerup (same task) is not a sort; later clicks are.
      dragged.current = true;
      setTimeout(() => (dragged.current = false));
    };
    handle.addEventListener('pointermove', move);
    handle.addEventListener('pointerup', end);
    handle.addEventListener('pointercancel', end);
  };

  const onKey = (event: KeyboardEvent<HTMLSpanElement>) => {
    // Enter on the handle is not Enter on the header (which sorts).
    event.stopPropagation();
    if (event.key !== 'ArrowLeft' && event.key !== 'ArrowRight') return;
    event.preventDefault();
    const current = event.currentTarget.parentElement?.getBoundingClientRect().width ?? MIN_COLUMN_WIDTH;
    onResizeEnd(Math.max(MIN_COLUMN_WIDTH, current + (event.key === 'ArrowRight' ? KEY_STEP : -KEY_STEP)));
  };

  return (
    <th
      {...rest}
      onClick={(e) => {
        if (!dragged.current) onClick?.(e);
      }}
    >
      {children}
      <span
        className="column-resize-handle"
        role="separator"
        aria-orientation="vertical"
        aria-label={resizeLabel}
        tabIndex={0}
        data-testid="column-resize"
        onPointerDown={start}
        onKeyDown={onKey}
        onClick={(e) => e.stopPropagation()}
      />
    </th>
  );
}
