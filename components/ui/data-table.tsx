"use client";
import {
  flexRender,
  getCoreRowModel,
  getSortedRowModel,
  useReactTable,
  type CellContext,
  type ColumnDef,
  type SortingState,
} from "@tanstack/react-table";
import { ArrowDown, ArrowUp, ArrowUpDown } from "lucide-react";
import { useState, type ReactNode } from "react";
import { cn } from "./cn";
import { Table, TBody, TD, TH, THead, TR } from "./table";

export type { ColumnDef };

/**
 * The trailing column of per-row buttons: not sortable, its header read only by screen readers. `className`
 * styles its cells (as `meta.className`), e.g. "text-right".
 */
export function actionsColumn<T>(cell: (context: CellContext<T, unknown>) => ReactNode, className?: string): ColumnDef<T, unknown> {
  return {
    id: "actions",
    header: () => <span className="sr-only">Actions</span>,
    enableSorting: false,
    ...(className ? { meta: { className } } : {}),
    cell,
  };
}

interface DataTableProps<T> {
  columns: ColumnDef<T, unknown>[];
  data: T[];
  /** Shown in place of the rows when `data` is empty. */
  empty: ReactNode;
  /** Accessible name of the table. */
  label: string;
  getRowId?: (row: T) => string;
  initialSorting?: SortingState;
  /** Server-sorted data (the request log): headers do not sort. */
  manualSorting?: boolean;
  rowClassName?: (row: T) => string | undefined;
}

/**
 * A TanStack Table with sortable headers (click or Enter/Space; aria-sort announces the order) and an empty
 * state. Columns opt out of sorting with `enableSorting: false`; `meta: { className }` styles a column's cells.
 */
export function DataTable<T>({ columns, data, empty, label, getRowId, initialSorting = [], manualSorting, rowClassName }: DataTableProps<T>) {
  const [sorting, setSorting] = useState<SortingState>(initialSorting);
  const table = useReactTable({
    data,
    columns,
    state: { sorting },
    onSortingChange: setSorting,
    getCoreRowModel: getCoreRowModel(),
    getSortedRowModel: getSortedRowModel(),
    manualSorting,
    ...(getRowId ? { getRowId: (row: T) => getRowId(row) } : {}),
  });
  return (
    <Table aria-label={label}>
      <THead>
        {table.getHeaderGroups().map((group) => (
          <tr key={group.id}>
            {group.headers.map((header) => {
              const sortable = header.column.getCanSort() && !manualSorting;
              const sorted = header.column.getIsSorted();
              const className = (header.column.columnDef.meta as { className?: string } | undefined)?.className;
              return (
                <TH key={header.id} className={className} aria-sort={sorted === "asc" ? "ascending" : sorted === "desc" ? "descending" : undefined}>
                  {header.isPlaceholder ? null : sortable ? (
                    <button
                      type="button"
                      onClick={header.column.getToggleSortingHandler()}
                      className="inline-flex items-center gap-1 uppercase hover:text-slate-800 focus-visible:outline-2 focus-visible:outline-brand-500"
                    >
                      {flexRender(header.column.columnDef.header, header.getContext())}
                      {sorted === "asc" ? <ArrowUp aria-hidden className="size-3" /> : sorted === "desc" ? <ArrowDown aria-hidden className="size-3" /> : <ArrowUpDown aria-hidden className="size-3 opacity-40" />}
                    </button>
                  ) : (
                    flexRender(header.column.columnDef.header, header.getContext())
                  )}
                </TH>
              );
            })}
          </tr>
        ))}
      </THead>
      <TBody>
        {table.getRowModel().rows.length === 0 ? (
          <tr>
            <td colSpan={columns.length} className="px-4 py-10 text-center">
              {empty}
            </td>
          </tr>
        ) : (
          table.getRowModel().rows.map((row) => (
            <TR key={row.id} className={rowClassName?.(row.original)}>
              {row.getVisibleCells().map((cell) => (
                <TD key={cell.id} className={cn((cell.column.columnDef.meta as { className?: string } | undefined)?.className)}>
                  {flexRender(cell.column.columnDef.cell, cell.getContext())}
                </TD>
              ))}
            </TR>
          ))
        )}
      </TBody>
    </Table>
  );
}
