"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Pencil, Plus, Trash2, UserPlus, Users } from "lucide-react";
import { useState } from "react";
import { formatDate } from "@/lib/format";
import { ROLE_LABELS } from "@/lib/roles";
import type { RouterOutputs } from "@/components/providers/api-types";
import { useCurrentUser } from "@/components/providers/current-user";
import { useTRPC } from "@/components/providers/trpc";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { actionsColumn, DataTable, type ColumnDef } from "@/components/ui/data-table";
import { Dialog, DialogContent } from "@/components/ui/dialog";
import { EmptyState } from "@/components/ui/empty-state";
import { PageHeader } from "@/components/ui/page-header";
import { QueryState } from "@/components/ui/query-state";
import { useToast } from "@/components/ui/toast";
import { TeamForm } from "./team-forms";
import { CreateUserForm, EditUserForm, SetPasswordForm } from "./user-forms";

type Team = RouterOutputs["teams"]["list"][number];
type User = RouterOutputs["users"]["list"][number];
type Editing = { kind: "new-team" } | { kind: "team"; team: Team } | { kind: "new-user" } | { kind: "user"; user: User } | { kind: "password"; user: User } | null;

export function TeamsPage() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const toast = useToast();
  const me = useCurrentUser();
  const teams = useQuery(trpc.teams.list.queryOptions());
  const users = useQuery(trpc.users.list.queryOptions());
  const removeTeam = useMutation(trpc.teams.delete.mutationOptions());
  const [editing, setEditing] = useState<Editing>(null);
  const close = () => setEditing(null);

  const teamColumns: ColumnDef<Team, unknown>[] = [
    { accessorKey: "name", header: "Team", cell: ({ row }) => <span className="font-medium text-slate-900">{row.original.name}</span> },
    { accessorKey: "slug", header: "Slug", cell: ({ row }) => <code className="font-mono text-xs">{row.original.slug}</code> },
    { accessorKey: "users", header: "Users", meta: { className: "tabular-nums" } },
    { accessorKey: "activeKeys", header: "Active keys", meta: { className: "tabular-nums" } },
    { accessorKey: "policies", header: "Policies", meta: { className: "tabular-nums" } },
    actionsColumn(({ row }) => (
      <div className="flex justify-end gap-1">
        <Button variant="ghost" size="sm" aria-label={`Rename ${row.original.name}`} onClick={() => setEditing({ kind: "team", team: row.original })}>
          <Pencil aria-hidden /> Rename
        </Button>
        {row.original.slug === "default" ? null : (
          <ConfirmDialog
            title={`Delete ${row.original.name}?`}
            confirmLabel="Delete team"
            trigger={
              <Button variant="ghost" size="sm" aria-label={`Delete ${row.original.name}`}>
                <Trash2 aria-hidden />
              </Button>
            }
            onConfirm={async () => {
              await removeTeam.mutateAsync({ id: row.original.id });
              await queryClient.invalidateQueries({ queryKey: trpc.teams.list.queryKey() });
              toast.success(`Deleted ${row.original.name}`);
            }}
          >
            <p>Only an empty team can be deleted: move its users, keys, policies and budgets first.</p>
          </ConfirmDialog>
        )}
      </div>
    ), "text-right"),
  ];

  const userColumns: ColumnDef<User, unknown>[] = [
    {
      accessorKey: "email",
      header: "User",
      cell: ({ row }) => (
        <div>
          <div className="font-medium text-slate-900">
            {row.original.email} {row.original.id === me.id ? <Badge tone="info">you</Badge> : null}
          </div>
          {row.original.name ? <div className="text-xs text-slate-500">{row.original.name}</div> : null}
        </div>
      ),
    },
    { accessorKey: "role", header: "Role", cell: ({ row }) => ROLE_LABELS[row.original.role] },
    { id: "team", header: "Team", accessorFn: (u) => u.team?.name ?? "—" },
    { id: "signIn", header: "Sign-in", accessorFn: (u) => (u.hasPassword ? "Password" : "SSO only") },
    { accessorKey: "createdAt", header: "Added", cell: ({ row }) => formatDate(row.original.createdAt) },
    { id: "status", header: "Status", accessorFn: (u) => (u.disabledAt ? "Disabled" : "Active"), cell: ({ row }) => (row.original.disabledAt ? <Badge tone="danger">Disabled</Badge> : <Badge tone="success">Active</Badge>) },
    actionsColumn(({ row }) => (
      <div className="flex justify-end gap-1">
        <Button variant="ghost" size="sm" aria-label={`Edit ${row.original.email}`} onClick={() => setEditing({ kind: "user", user: row.original })}>
          <Pencil aria-hidden /> Edit
        </Button>
        <Button variant="ghost" size="sm" onClick={() => setEditing({ kind: "password", user: row.original })}>
          Set password
        </Button>
      </div>
    ), "text-right"),
  ];

  return (
    <div className="mx-auto max-w-7xl space-y-6">
      <PageHeader title="Teams & users" description="Teams own API keys, team-only policies and budgets. Users sign in to this dashboard with a role." />
      <Card>
        <CardHeader>
          <div>
            <CardTitle>Teams</CardTitle>
            <CardDescription>Spend is reported per team; developers see only their own team&apos;s keys and calls.</CardDescription>
          </div>
          <Button onClick={() => setEditing({ kind: "new-team" })}>
            <Plus aria-hidden /> New team
          </Button>
        </CardHeader>
        <QueryState query={teams} label="Loading teams">
          {(rows) => <DataTable label="Teams" columns={teamColumns} data={rows} getRowId={(t) => t.id} empty={<EmptyState icon={<Users />} title="No teams" />} />}
        </QueryState>
      </Card>
      <Card>
        <CardHeader>
          <div>
            <CardTitle>Users</CardTitle>
            <CardDescription>Disable a user instead of deleting them: the audit log keeps naming who changed what.</CardDescription>
          </div>
          <Button onClick={() => setEditing({ kind: "new-user" })}>
            <UserPlus aria-hidden /> Add user
          </Button>
        </CardHeader>
        <QueryState query={users} label="Loading users">
          {(rows) => <DataTable label="Users" columns={userColumns} data={rows} getRowId={(u) => u.id} rowClassName={(u) => (u.disabledAt ? "text-slate-400" : undefined)} empty={<EmptyState title="No users" />} />}
        </QueryState>
      </Card>

      <Dialog open={editing !== null} onOpenChange={(open) => !open && close()}>
        {editing?.kind === "new-team" ? (
          <DialogContent title="New team">
            <TeamForm onDone={close} />
          </DialogContent>
        ) : editing?.kind === "team" ? (
          <DialogContent title={`Rename ${editing.team.name}`}>
            <TeamForm team={editing.team} onDone={close} />
          </DialogContent>
        ) : editing?.kind === "new-user" ? (
          <DialogContent wide title="Add user" description="They sign in with this email and the initial password (or SSO, when configured).">
            <CreateUserForm teams={teams.data ?? []} onDone={close} />
          </DialogContent>
        ) : editing?.kind === "user" ? (
          <DialogContent wide title={`Edit ${editing.user.email}`}>
            <EditUserForm user={editing.user} teams={teams.data ?? []} self={editing.user.id === me.id} onDone={close} />
          </DialogContent>
        ) : editing?.kind === "password" ? (
          <DialogContent title={`Set the password of ${editing.user.email}`}>
            <SetPasswordForm user={editing.user} onDone={close} />
          </DialogContent>
        ) : null}
      </Dialog>
    </div>
  );
}
