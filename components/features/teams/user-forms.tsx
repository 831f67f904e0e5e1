"use client";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { password as passwordSchema, PASSWORD_MIN_LENGTH } from "@/lib/contracts/auth";
import { userCreateInput } from "@/lib/contracts/users";
import { ROLE_DESCRIPTIONS, ROLE_LABELS, ROLES, type Role } from "@/lib/roles";
import type { RouterOutputs } from "@/components/providers/api-types";
import { useTRPC } from "@/components/providers/trpc";
import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { DialogFooter } from "@/components/ui/dialog";
import { errorMessage } from "@/components/ui/errors";
import { Field } from "@/components/ui/field";
import { Checkbox, Input, Select } from "@/components/ui/input";
import { useToast } from "@/components/ui/toast";

type User = RouterOutputs["users"]["list"][number];
type Team = RouterOutputs["teams"]["list"][number];

function RoleAndTeam({ role, teamId, teams, onRole, onTeam, errors, lockRole }: { role: Role; teamId: string; teams: Team[]; onRole: (r: Role) => void; onTeam: (t: string) => void; errors: Record<string, string>; lockRole?: boolean }) {
  return (
    <div className="grid grid-cols-2 gap-4">
      <Field label="Role" hint={lockRole ? "You cannot change your own role." : ROLE_DESCRIPTIONS[role]} error={errors.role} required>
        <Select value={role} onChange={(e) => onRole(e.target.value as Role)} disabled={lockRole}>
          {ROLES.map((r) => (
            <option key={r} value={r}>
              {ROLE_LABELS[r]}
            </option>
          ))}
        </Select>
      </Field>
      <Field label="Team" hint={role === "developer" ? "Developers act for this team." : "Optional."} error={errors.teamId} required={role === "developer"}>
        <Select value={teamId} onChange={(e) => onTeam(e.target.value)}>
          <option value="">No team</option>
          {teams.map((t) => (
            <option key={t.id} value={t.id}>
              {t.name}
            </option>
          ))}
        </Select>
      </Field>
    </div>
  );
}

function useUsersChanged(message: (email: string) => string, onDone: () => void) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const toast = useToast();
  return async (saved: { email: string }) => {
    await queryClient.invalidateQueries({ queryKey: trpc.users.list.queryKey() });
    await queryClient.invalidateQueries({ queryKey: trpc.teams.list.queryKey() });
    toast.success(message(saved.email));
    onDone();
  };
}

export function CreateUserForm({ teams, onDone }: { teams: Team[]; onDone: () => void }) {
  const trpc = useTRPC();
  const [values, setValues] = useState({ email: "", name: "", role: "developer" as Role, teamId: "", password: "" });
  const [errors, setErrors] = useState<Record<string, string>>({});
  const create = useMutation(trpc.users.create.mutationOptions({ onSuccess: useUsersChanged((email) => `Added ${email}`, onDone) }));

  function submit(event: FormEvent) {
    event.preventDefault();
    const parsed = userCreateInput.safeParse({ ...values, teamId: values.teamId || null, password: values.password || undefined });
    const found: Record<string, string> = {};
    if (!parsed.success) for (const i of parsed.error.issues) found[String(i.path[0])] ??= i.message;
    if (values.role === "developer" && !values.teamId) found.teamId = "a developer needs a team";
    setErrors(found);
    if (parsed.success && Object.keys(found).length === 0) create.mutate(parsed.data);
  }

  return (
    <form onSubmit={submit} noValidate className="space-y-4">
      {create.error ? <Alert tone="error">{errorMessage(create.error)}</Alert> : null}
      <div className="grid grid-cols-2 gap-4">
        <Field label="Email" error={errors.email} required>
          <Input type="email" value={values.email} onChange={(e) => setValues({ ...values, email: e.target.value })} autoComplete="off" autoFocus />
        </Field>
        <Field label="Name" error={errors.name}>
          <Input value={values.name} onChange={(e) => setValues({ ...values, name: e.target.value })} autoComplete="off" />
        </Field>
      </div>
      <RoleAndTeam role={values.role} teamId={values.teamId} teams={teams} onRole={(role) => setValues({ ...values, role })} onTeam={(teamId) => setValues({ ...values, teamId })} errors={errors} />
      <Field label="Initial password" hint={`At least ${PASSWORD_MIN_LENGTH} characters. Leave empty for a user who signs in with SSO.`} error={errors.password}>
        <Input type="password" value={values.password} onChange={(e) => setValues({ ...values, password: e.target.value })} autoComplete="new-password" />
      </Field>
      <DialogFooter>
        <Button type="submit" loading={create.isPending}>
          Add user
        </Button>
      </DialogFooter>
    </form>
  );
}

export function EditUserForm({ user, teams, self, onDone }: { user: User; teams: Team[]; self: boolean; onDone: () => void }) {
  const trpc = useTRPC();
  const [role, setRole] = useState<Role>(user.role);
  const [teamId, setTeamId] = useState(user.teamId ?? "");
  const [name, setName] = useState(user.name ?? "");
  const [disabled, setDisabled] = useState(user.disabledAt !== null);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const update = useMutation(trpc.users.update.mutationOptions({ onSuccess: useUsersChanged((email) => `Saved ${email}`, onDone) }));
  function submit(event: FormEvent) {
    event.preventDefault();
    if (role === "developer" && !teamId) {
      setErrors({ teamId: "a developer needs a team" });
      return;
    }
    setErrors({});
    update.mutate({ id: user.id, role, teamId: teamId || null, name: name || null, disabled });
  }
  return (
    <form onSubmit={submit} noValidate className="space-y-4">
      {update.error ? <Alert tone="error">{errorMessage(update.error)}</Alert> : null}
      <Field label="Name">
        <Input value={name} onChange={(e) => setName(e.target.value)} />
      </Field>
      <RoleAndTeam role={role} teamId={teamId} teams={teams} onRole={setRole} onTeam={setTeamId} errors={errors} lockRole={self} />
      <Checkbox label="Disabled (cannot sign in; sessions end at their next request; the API keys they created answer 401)" checked={disabled} onChange={(e) => setDisabled(e.target.checked)} disabled={self} />
      <DialogFooter>
        <Button type="submit" loading={update.isPending}>
          Save user
        </Button>
      </DialogFooter>
    </form>
  );
}

export function SetPasswordForm({ user, onDone }: { user: User; onDone: () => void }) {
  const trpc = useTRPC();
  const toast = useToast();
  const [value, setValue] = useState("");
  const [error, setError] = useState<string | null>(null);
  const set = useMutation(trpc.users.setPassword.mutationOptions({ onSuccess: () => (toast.success(`Password set for ${user.email}`), onDone()) }));
  return (
    <form
      noValidate
      className="space-y-4"
      onSubmit={(event) => {
        event.preventDefault();
        const parsed = passwordSchema.safeParse(value);
        setError(parsed.success ? null : parsed.error.issues[0]!.message);
        if (parsed.success) set.mutate({ id: user.id, password: parsed.data });
      }}
    >
      {set.error ? <Alert tone="error">{errorMessage(set.error)}</Alert> : null}
      <Field label="New password" hint={`At least ${PASSWORD_MIN_LENGTH} characters. Share it over a safe channel.`} error={error} required>
        <Input type="password" value={value} onChange={(e) => setValue(e.target.value)} autoComplete="new-password" autoFocus />
      </Field>
      <DialogFooter>
        <Button type="submit" loading={set.isPending}>
          Set password
        </Button>
      </DialogFooter>
    </form>
  );
}
