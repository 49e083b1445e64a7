// Chart tooltips as DOM nodes. ECharts puts a formatter's string result into the page as HTML,
// so a trait name or an option label from outside would run as markup there; every custom
// formatter returns this element instead, whose lines are text nodes and are never parsed.

/** A tooltip of plain text lines, one below the other. */
export function tooltipLines(lines: string[]): HTMLElement {
  const box = document.createElement('div');
  lines.forEach((line, i) => {
    if (i > 0) box.appendChild(document.createElement('br'));
    box.appendChild(document.createTextNode(line));
  });
  return box;
}
