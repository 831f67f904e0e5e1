"use client";
import { useMutation } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { signIn } from "next-auth/react";
import { useState, type FormEvent } from "react";
import { setupInput, PASSWORD_MIN_LENGTH } from "@/lib/contracts/auth";
import { useTRPC } from "@/components/providers/trpc";
import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Card, CardContent } from "@/components/ui/card";
import { errorMessage, fieldErrorsOf } from "@/components/ui/errors";
import { Field } from "@/components/ui/field";
import { Input } from "@/components/ui/input";

/** First run: create the first admin, then sign in as them. */
export function SetupForm() {
  const trpc = useTRPC();
  const router = useRouter();
  const [values, setValues] = useState({ email: "", name: "", password: "", confirm: "" });
  const [errors, setErrors] = useState<Record<string, string>>({});
  const create = useMutation(trpc.setup.createAdmin.mutationOptions());
  const set = (field: keyof typeof values) => (event: React.ChangeEvent<HTMLInputElement>) => setValues((v) => ({ ...v, [field]: event.target.value }));

  async function submit(event: FormEvent) {
    event.preventDefault();
    const parsed = setupInput.safeParse({ email: values.email, password: values.password, name: values.name.trim() || undefined });
    const next: Record<string, string> = {};
    if (!parsed.success) for (const issue of parsed.error.issues) next[String(issue.path[0])] ??= issue.message;
    if (values.confirm !== values.password) next.confirm = "does not match the password";
    setErrors(next);
    if (!parsed.success || next.confirm) return;
    try {
      await create.mutateAsync(parsed.data);
    } catch (error) {
      setErrors(fieldErrorsOf(error));
      return;
    }
    const result = await signIn("credentials", { email: parsed.data.email, password: parsed.data.password, redirect: false, callbackUrl: "/" });
    router.replace(result?.ok ? "/" : "/sign-in");
    router.refresh();
  }

  return (
    <Card>
      <CardContent className="space-y-5 py-6">
        <div>
          <h1 className="text-xl font-semibold tracking-tight">Welcome to Switchyard</h1>
          <p className="mt-1 text-sm text-slate-600">Create the first admin account. This page closes once it exists.</p>
        </div>
        {create.error && Object.keys(fieldErrorsOf(create.error)).length === 0 ? <Alert tone="error">{errorMessage(create.error)}</Alert> : null}
        <form onSubmit={submit} className="space-y-4" noValidate>
          <Field label="Email" error={errors.email} required>
            <Input type="email" autoComplete="username" autoFocus value={values.email} onChange={set("email")} />
          </Field>
          <Field label="Name" error={errors.name}>
            <Input autoComplete="name" value={values.name} onChange={set("name")} />
          </Field>
          <Field label="Password" hint={`At least ${PASSWORD_MIN_LENGTH} characters.`} error={errors.password} required>
            <Input type="password" autoComplete="new-password" value={values.password} onChange={set("password")} />
          </Field>
          <Field label="Confirm password" error={errors.confirm} required>
            <Input type="password" autoComplete="new-password" value={values.confirm} onChange={set("confirm")} />
          </Field>
          <Button type="submit" className="w-full" loading={create.isPending}>
            Create admin account
          </Button>
        </form>
      </CardContent>
    </Card>
  );
}
