"use client";
import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/components/providers/trpc";
import { QueryState } from "@/components/ui/query-state";
import { PolicyEditor } from "./policy-editor";

/** Loads one policy (NOT_FOUND for one outside the user's teams) and opens it in the editor. */
export function PolicyPage({ id }: { id: string }) {
  const trpc = useTRPC();
  const policy = useQuery(trpc.policies.get.queryOptions({ id }));
  return (
    <QueryState query={policy} label="Loading policy">
      {(data) => <PolicyEditor policy={data} />}
    </QueryState>
  );
}
