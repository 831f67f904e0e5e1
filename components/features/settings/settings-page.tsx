"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState, type FormEvent } from "react";
import { changePasswordInput, PASSWORD_MIN_LENGTH } from "@/lib/contracts/auth";
import { settingsUpdateInput } from "@/lib/contracts/settings";
import { ROLE_DESCRIPTIONS, ROLE_LABELS } from "@/lib/roles";
import { useCan, useCurrentUser } from "@/components/providers/current-user";
import { useTRPC } from "@/components/providers/trpc";
import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardFooter, CardHeader, CardTitle } from "@/components/ui/card";
import { errorMessage } from "@/components/ui/errors";
import { Field } from "@/components/ui/field";
import { Input } from "@/components/ui/input";
import { PageHeader } from "@/components/ui/page-header";
import { QueryState } from "@/components/ui/query-state";
import { useToast } from "@/components/ui/toast";

function Facts({ rows }: { rows: Array<[string, React.ReactNode]> }) {
  return (
    <dl className="divide-y divide-slate-100 text-sm">
      {rows.map(([label, value]) => (
        <div key={label} className="grid grid-cols-[12rem_minmax(0,1fr)] gap-4 py-2">
          <dt className="text-slate-500">{label}</dt>
          <dd className="text-slate-900">{value}</dd>
        </div>
      ))}
    </dl>
  );
}

function ChangePassword() {
  const trpc = useTRPC();
  const toast = useToast();
  const [values, setValues] = useState({ current: "", next: "", confirm: "" });
  const [errors, setErrors] = useState<Record<string, string>>({});
  const change = useMutation(
    trpc.me.changePassword.mutationOptions({
      onSuccess: () => {
        toast.success("Password changed");
        setValues({ current: "", next: "", confirm: "" });
      },
    }),
  );
  function submit(event: FormEvent) {
    event.preventDefault();
    const parsed = changePasswordInput.safeParse({ current: values.current, next: values.next });
    const found: Record<string, string> = {};
    if (!parsed.success) for (const i of parsed.error.issues) found[String(i.path[0])] ??= i.message;
    if (values.confirm !== values.next) found.confirm = "does not match the new password";
    setErrors(found);
    if (parsed.success && Object.keys(found).length === 0) change.mutate(parsed.data);
  }
  const set = (field: keyof typeof values) => (e: React.ChangeEvent<HTMLInputElement>) => setValues({ ...values, [field]: e.target.value });
  return (
    <form onSubmit={submit} noValidate>
      <CardContent className="space-y-4">
        {change.error ? <Alert tone="error">{errorMessage(change.error)}</Alert> : null}
        <Field label="Current password" error={errors.current} required>
          <Input type="password" autoComplete="current-password" value={values.current} onChange={set("current")} />
        </Field>
        <div className="grid grid-cols-2 gap-4">
          <Field label="New password" hint={`At least ${PASSWORD_MIN_LENGTH} characters.`} error={errors.next} required>
            <Input type="password" autoComplete="new-password" value={values.next} onChange={set("next")} />
          </Field>
          <Field label="Confirm new password" error={errors.confirm} required>
            <Input type="password" autoComplete="new-password" value={values.confirm} onChange={set("confirm")} />
          </Field>
        </div>
      </CardContent>
      <CardFooter>
        <Button type="submit" loading={change.isPending}>
          Change password
        </Button>
      </CardFooter>
    </form>
  );
}

function OrganizationName({ current }: { current: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const toast = useToast();
  const [name, setName] = useState(current);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => setName(current), [current]);
  const save = useMutation(
    trpc.settings.update.mutationOptions({
      onSuccess: async () => {
        await queryClient.invalidateQueries({ queryKey: trpc.settings.get.queryKey() });
        toast.success("Organization renamed");
      },
    }),
  );
  return (
    <form
      noValidate
      onSubmit={(event) => {
        event.preventDefault();
        const parsed = settingsUpdateInput.safeParse({ organizationName: name });
        setError(parsed.success ? null : parsed.error.issues[0]!.message);
        if (parsed.success) save.mutate(parsed.data);
      }}
      className="flex items-end gap-3"
    >
      <Field label="Organization name" error={error ?? (save.error ? errorMessage(save.error) : null)} className="flex-1">
        <Input value={name} onChange={(e) => setName(e.target.value)} />
      </Field>
      <Button type="submit" loading={save.isPending} disabled={name === current}>
        Save
      </Button>
    </form>
  );
}

export function SettingsPage() {
  const trpc = useTRPC();
  const user = useCurrentUser();
  const isAdmin = useCan("admin");
  const me = useQuery(trpc.me.get.queryOptions());
  const settings = useQuery(trpc.settings.get.queryOptions());
  return (
    <div className="mx-auto max-w-4xl space-y-6">
      <PageHeader title="Settings" description="Your account, the organization, and what this installation runs on." />
      <Card>
        <CardHeader>
          <div>
            <CardTitle>Your account</CardTitle>
            <CardDescription>{ROLE_DESCRIPTIONS[user.role]}</CardDescription>
          </div>
        </CardHeader>
        <CardContent>
          <QueryState query={me} label="Loading your account">
            {(data) => (
              <Facts
                rows={[
                  ["Email", data.email],
                  ["Name", data.name ?? "—"],
                  ["Role", ROLE_LABELS[data.role]],
                  ["Team", data.team?.name ?? "—"],
                ]}
              />
            )}
          </QueryState>
        </CardContent>
      </Card>
      <Card>
        <CardHeader>
          <CardTitle>Change password</CardTitle>
        </CardHeader>
        <ChangePassword />
      </Card>
      <Card>
        <CardHeader>
          <CardTitle>Organization and system</CardTitle>
        </CardHeader>
        <CardContent className="space-y-4">
          <QueryState query={settings} label="Loading settings">
            {(data) => (
              <>
                {isAdmin ? <OrganizationName current={data.organization.name} /> : null}
                <Facts
                  rows={[
                    ...(isAdmin ? [] : [["Organization", data.organization.name] as [string, React.ReactNode]]),
                    ["Database", data.system.database],
                    ["Shared state", data.system.state],
                    ["Public URL", data.system.publicUrl ?? "not set (links use the address you browse with)"],
                    ["Master secret", data.system.masterSecret],
                    ["Sign-in methods", data.system.signInMethods.join(", ")],
                    ["Session length", `${data.system.sessionHours} hours`],
                    ["Config version", <code key="v" className="font-mono text-xs">{data.system.configVersion}</code>],
                  ]}
                />
              </>
            )}
          </QueryState>
        </CardContent>
      </Card>
    </div>
  );
}
