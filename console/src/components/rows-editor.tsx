/** One column of a RowsEditor: the row's field it edits, its heading, and how its input reads. */
export type RowsColumn<R> = { field: keyof R & string; label: string; inputMode?: 'numeric' | 'decimal'; title?: string };

/**
 * Rows of text fields edited in place (the tiers of a ladder, check-in milestones): a table with one input per field,
 * each named by `cellLabel` ("Threshold of tier 2") since the column heading is not its label, a remove button per
 * row, then an add button. `numbered` puts the row's number first; `keepOne` keeps the last row from being removed.
 */
export function RowsEditor<R extends Record<string, string>>(props: {
  rows: R[];
  columns: RowsColumn<R>[];
  onChange: (rows: R[]) => void;
  newRow: () => R;
  cellLabel: (column: string, n: number) => string;
  removeLabel: string;
  removeRowLabel: (n: number) => string;
  addLabel: string;
  emptyText?: string;
  numbered?: boolean;
  keepOne?: boolean;
  class?: string;
}) {
  const { rows, columns, onChange } = props;
  const set = (i: number, field: keyof R, value: string) => onChange(rows.map((r, j) => (j === i ? { ...r, [field]: value } : r)));
  return (
    <>
      {rows.length === 0 && props.emptyText ? (
        <p class="state empty">{props.emptyText}</p>
      ) : (
        <div class="rows-scroll">
          <table class={props.class}>
            <thead>
              <tr>
                {props.numbered && <th scope="col">#</th>}
                {columns.map((c) => (
                  <th key={c.field} scope="col">
                    {c.label}
                  </th>
                ))}
                <th scope="col">
                  <span class="sr-only">{props.removeLabel}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((row, i) => (
                <tr key={i}>
                  {props.numbered && <td>{i + 1}</td>}
                  {columns.map((c) => (
                    <td key={c.field}>
                      <input
                        type="text"
                        inputMode={c.inputMode}
                        aria-label={props.cellLabel(c.label, i + 1)}
                        title={c.title}
                        value={row[c.field]}
                        onInput={(e) => set(i, c.field, e.currentTarget.value)}
                      />
                    </td>
                  ))}
                  <td>
                    <button
                      type="button"
                      class="danger"
                      aria-label={props.removeRowLabel(i + 1)}
                      disabled={props.keepOne && rows.length === 1}
                      onClick={() => onChange(rows.filter((_, j) => j !== i))}
                    >
                      {props.removeLabel}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <p>
        <button type="button" onClick={() => onChange([...rows, props.newRow()])}>
          {props.addLabel}
        </button>
      </p>
    </>
  );
}
