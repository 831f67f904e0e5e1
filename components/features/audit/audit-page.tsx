"use client";
import { useInfiniteQuery, useQuery } from "@tanstack/react-query";
import { ChevronDown, ChevronRight, ScrollText } from "lucide-react";
import { Fragment, useState } from "react";
import { formatDateTime } from "@/lib/format";
import type { RouterOutputs } from "@/components/providers/api-types";
import { useTRPC } from "@/components/providers/trpc";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card } from "@/components/ui/card";
import { EmptyState } from "@/components/ui/empty-state";
import { Field } from "@/components/ui/field";
import { Select } from "@/components/ui/input";
import { JsonView } from "@/components/ui/json-view";
import { PageHeader } from "@/components/ui/page-header";
import { QueryState } from "@/components/ui/query-state";
import { Table, TBody, TD, TH, THead, TR } from "@/components/ui/table";

type Entry = RouterOutputs["audit"]["list"]["items"][number];

/** A human name for what changed: its name, email or prefix when the snapshot has one, else its id. */
function subjectOf(entry: Entry): string {
  for (const snapshot of [entry.after, entry.before] as Array<Record<string, unknown> | null>) {
    for (const field of ["name", "email", "modelId", "prefix"]) {
      const value = snapshot?.[field];
      if (typeof value === "string" && value) return value;
    }
  }
  return entry.entityId ?? "—";
}

/** Top-level fields whose values differ between before and after. */
function changedFields(entry: Entry): string[] {
  const before = (entry.before ?? {}) as Record<string, unknown>;
  const after = (entry.after ?? {}) as Record<string, unknown>;
  return [...new Set([...Object.keys(before), ...Object.keys(after)])].filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]));
}

export function AuditPage() {
  const trpc = useTRPC();
  const [entity, setEntity] = useState("");
  const [open, setOpen] = useState<string | null>(null);
  const entities = useQuery(trpc.audit.entities.queryOptions());
  const log = useInfiniteQuery(
    trpc.audit.list.infiniteQueryOptions({ limit: 50, ...(entity ? { entity } : {}) }, { getNextPageParam: (page) => page.nextCursor ?? undefined }),
  );
  return (
    <div className="mx-auto max-w-7xl">
      <PageHeader title="Audit log" description="Every configuration change: who made it, when, and the values before and after. Secrets are never recorded." />
      <Card>
        <div className="flex items-end gap-4 border-b border-slate-100 px-5 py-3">
          <Field label="What changed" className="w-56">
            <Select value={entity} onChange={(e) => setEntity(e.target.value)}>
              <option value="">Everything</option>
              {(entities.data ?? []).map((name) => (
                <option key={name} value={name}>
                  {name}
                </option>
              ))}
            </Select>
          </Field>
        </div>
        <QueryState query={log} label="Loading the audit log" isEmpty={(data) => data.pages[0]?.items.length === 0} empty={<EmptyState icon={<ScrollText />} title="Nothing recorded yet">Changes to providers, policies, keys, teams, users and settings appear here.</EmptyState>}>
          {(data) => (
            <>
              <Table aria-label="Audit log">
                <THead>
                  <tr>
                    <TH className="w-8"><span className="sr-only">Details</span></TH>
                    <TH>When</TH>
                    <TH>Who</TH>
                    <TH>Action</TH>
                    <TH>On</TH>
                    <TH>Changed</TH>
                  </tr>
                </THead>
                <TBody>
                  {data.pages.flatMap((page) => page.items).map((entry) => {
                    const expanded = open === entry.id;
                    const fields = changedFields(entry);
                    return (
                      <Fragment key={entry.id}>
                        <TR>
                          <TD>
                            <Button variant="ghost" size="icon" aria-expanded={expanded} aria-label={`${expanded ? "Hide" : "Show"} details of ${entry.action}`} onClick={() => setOpen(expanded ? null : entry.id)}>
                              {expanded ? <ChevronDown aria-hidden /> : <ChevronRight aria-hidden />}
                            </Button>
                          </TD>
                          <TD className="whitespace-nowrap text-xs text-slate-600">{formatDateTime(entry.createdAt)}</TD>
                          <TD className="text-xs">{entry.actor}</TD>
                          <TD>
                            <Badge tone={entry.action.endsWith("delete") || entry.action.endsWith("revoke") ? "danger" : entry.action.endsWith("create") ? "success" : "info"}>{entry.action}</Badge>
                          </TD>
                          <TD className="max-w-48 truncate text-xs font-medium text-slate-800">{subjectOf(entry)}</TD>
                          <TD className="max-w-sm truncate font-mono text-xs text-slate-600">{fields.join(", ") || "—"}</TD>
                        </TR>
                        {expanded ? (
                          <tr>
                            <td colSpan={6} className="bg-slate-50/60 px-4 py-3">
                              <div className="grid grid-cols-2 gap-4">
                                <div>
                                  <p className="mb-1 text-xs font-semibold uppercase tracking-wide text-slate-500">Before</p>
                                  {entry.before ? <JsonView value={entry.before} label="Before" /> : <p className="text-sm text-slate-500">— (created)</p>}
                                </div>
                                <div>
                                  <p className="mb-1 text-xs font-semibold uppercase tracking-wide text-slate-500">After</p>
                                  {entry.after ? <JsonView value={entry.after} label="After" /> : <p className="text-sm text-slate-500">— (deleted)</p>}
                                </div>
                              </div>
                              <p className="mt-2 text-xs text-slate-500">
                                {entry.entity} <code className="font-mono">{entry.entityId ?? ""}</code>
                              </p>
                            </td>
                          </tr>
                        ) : null}
                      </Fragment>
                    );
                  })}
                </TBody>
              </Table>
              <div className="flex justify-center border-t border-slate-100 px-5 py-3">
                {log.hasNextPage ? (
                  <Button variant="secondary" loading={log.isFetchingNextPage} onClick={() => void log.fetchNextPage()}>
                    Load older changes
                  </Button>
                ) : (
                  <span className="text-xs text-slate-500">That is everything.</span>
                )}
              </div>
            </>
          )}
        </QueryState>
      </Card>
    </div>
  );
}
