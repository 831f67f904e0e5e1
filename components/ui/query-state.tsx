"use client";
import type { ReactNode } from "react";
import { Alert } from "./alert";
import { Button } from "./button";
import { errorMessage } from "./errors";
import { SkeletonRows } from "./skeleton";

/**
 * Renders a query's three states in place: loading (skeleton rows), error (message and Retry), and data (passed to
 * `children`). `isEmpty` + `empty` show an empty state instead of an empty table or list.
 */
export function QueryState<T>({
  query,
  children,
  empty,
  isEmpty,
  loading,
  label = "Loading",
}: {
  query: { data: T | undefined; error: unknown; isPending: boolean; isError: boolean; isRefetching: boolean; refetch: () => unknown };
  children: (data: T) => ReactNode;
  empty?: ReactNode;
  isEmpty?: (data: T) => boolean;
  loading?: ReactNode;
  label?: string;
}) {
  if (query.isPending) return <>{loading ?? <SkeletonRows label={label} />}</>;
  if (query.isError) {
    return (
      <Alert
        tone="error"
        title="Could not load this"
        className="m-4"
        action={
          <Button variant="secondary" size="sm" loading={query.isRefetching} onClick={() => void query.refetch()}>
            Retry
          </Button>
        }
      >
        {errorMessage(query.error)}
      </Alert>
    );
  }
  const data = query.data as T;
  if (empty !== undefined && isEmpty?.(data)) return <>{empty}</>;
  return <>{children(data)}</>;
}
