"use client";
import { useRouter } from "next/navigation";
import { signIn } from "next-auth/react";
import { useState, type FormEvent } from "react";
import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Card, CardContent } from "@/components/ui/card";
import { Field } from "@/components/ui/field";
import { Input } from "@/components/ui/input";

/** next-auth error codes → what the person can do about it. */
const MESSAGES: Record<string, string> = {
  CredentialsSignin: "That email and password do not match an active account.",
  TooManyAttempts: "Too many failed attempts for this account. Wait 15 minutes and try again.",
  AccessDenied: "No active Switchyard account uses that email. Ask an admin to add you.",
  OAuthSignin: "The sign-in provider could not be reached. Try again, or use your password.",
  OAuthCallback: "The sign-in provider's answer could not be verified. Try again.",
  SessionRequired: "Sign in to continue.",
};

export function SignInForm({ sso, error: initialError, callbackUrl }: { sso: Array<{ id: string; name: string }>; error: string | null; callbackUrl: string }) {
  const router = useRouter();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<string | null>(initialError ? (MESSAGES[initialError] ?? "Sign-in failed. Try again.") : null);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setPending(true);
    setError(null);
    const result = await signIn("credentials", { email, password, redirect: false, callbackUrl }).catch(() => null);
    if (result?.ok && !result.error) {
      router.replace(callbackUrl);
      router.refresh();
      return;
    }
    setPending(false);
    setError(result?.error ? (MESSAGES[result.error] ?? "Sign-in failed. Try again.") : "Cannot reach the server. Try again.");
  }

  return (
    <Card>
      <CardContent className="space-y-5 py-6">
        <div>
          <h1 className="text-xl font-semibold tracking-tight">Sign in</h1>
          <p className="mt-1 text-sm text-slate-600">to the Switchyard dashboard</p>
        </div>
        {error ? <Alert tone="error">{error}</Alert> : null}
        <form onSubmit={submit} className="space-y-4" noValidate>
          <Field label="Email">
            <Input type="email" name="email" autoComplete="username" required autoFocus value={email} onChange={(e) => setEmail(e.target.value)} />
          </Field>
          <Field label="Password">
            <Input type="password" name="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
          </Field>
          <Button type="submit" className="w-full" loading={pending} disabled={!email || !password}>
            Sign in
          </Button>
        </form>
        {sso.length > 0 ? (
          <div className="space-y-2 border-t border-slate-100 pt-4">
            {sso.map((provider) => (
              <Button key={provider.id} variant="secondary" className="w-full" onClick={() => void signIn(provider.id, { callbackUrl })}>
                Sign in with {provider.name}
              </Button>
            ))}
          </div>
        ) : null}
      </CardContent>
    </Card>
  );
}
