"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { History } from "lucide-react";
import { useState } from "react";
import { formatDateTime } from "@/lib/format";
import type { RouterOutputs } from "@/components/providers/api-types";
import { useCan } from "@/components/providers/current-user";
import { useTRPC } from "@/components/providers/trpc";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardHeader, CardTitle } from "@/components/ui/card";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { JsonView } from "@/components/ui/json-view";
import { QueryState } from "@/components/ui/query-state";
import { useToast } from "@/components/ui/toast";

/** Every saved version, newest first; admins restore one (as a new version). */
export function PolicyVersions({ policy }: { policy: RouterOutputs["policies"]["get"] }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const toast = useToast();
  const canEdit = useCan("admin");
  const versions = useQuery(trpc.policies.versions.queryOptions({ id: policy.id }));
  const rollback = useMutation(trpc.policies.rollback.mutationOptions());
  const [open, setOpen] = useState<number | null>(null);
  return (
    <Card>
      <CardHeader>
        <CardTitle className="flex items-center gap-2">
          <History aria-hidden className="size-4" /> Version history
        </CardTitle>
      </CardHeader>
      <CardContent className="p-0">
        <QueryState query={versions} label="Loading versions">
          {(rows) => (
            <ol className="divide-y divide-slate-100" aria-label="Versions">
              {rows.map((v) => (
                <li key={v.version} className="px-5 py-3 text-sm">
                  <div className="flex items-center justify-between gap-2">
                    <div>
                      <span className="font-medium">Version {v.version}</span> {v.current ? <Badge tone="success">current</Badge> : null}
                      <div className="text-xs text-slate-500">
                        {formatDateTime(v.createdAt)} · {v.createdBy}
                      </div>
                    </div>
                    <div className="flex gap-1">
                      <Button variant="ghost" size="sm" aria-expanded={open === v.version} onClick={() => setOpen(open === v.version ? null : v.version)}>
                        {open === v.version ? "Hide" : "View"}
                      </Button>
                      {canEdit && !v.current ? (
                        <ConfirmDialog
                          tone="primary"
                          title={`Restore version ${v.version}?`}
                          confirmLabel="Restore"
                          trigger={<Button variant="secondary" size="sm">Restore</Button>}
                          onConfirm={async () => {
                            const restored = await rollback.mutateAsync({ id: policy.id, version: v.version });
                            await queryClient.invalidateQueries({ queryKey: trpc.policies.pathKey() });
                            toast.success(`Restored version ${v.version} as version ${restored.version}`);
                          }}
                        >
                          <p>Its document becomes current again, saved as a new version; the history keeps every version.</p>
                        </ConfirmDialog>
                      ) : null}
                    </div>
                  </div>
                  {open === v.version ? <JsonView className="mt-2" value={v.document} label={`Document of version ${v.version}`} /> : null}
                </li>
              ))}
            </ol>
          )}
        </QueryState>
      </CardContent>
    </Card>
  );
}
