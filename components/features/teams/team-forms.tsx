"use client";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { slugify, teamCreateInput, teamName } from "@/lib/contracts/teams";
import type { RouterOutputs } from "@/components/providers/api-types";
import { useTRPC } from "@/components/providers/trpc";
import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { DialogFooter } from "@/components/ui/dialog";
import { errorMessage } from "@/components/ui/errors";
import { Field } from "@/components/ui/field";
import { Input } from "@/components/ui/input";
import { parseForm } from "@/components/ui/parse-form";
import { useToast } from "@/components/ui/toast";

type Team = RouterOutputs["teams"]["list"][number];

/** New team (name → suggested slug) or rename (the slug stays: config files refer to it). */
export function TeamForm({ team, onDone }: { team?: Team; onDone: () => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const toast = useToast();
  const [name, setName] = useState(team?.name ?? "");
  const [slug, setSlug] = useState(team?.slug ?? "");
  const [slugTouched, setSlugTouched] = useState(false);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const done = async (saved: { name: string }) => {
    await queryClient.invalidateQueries({ queryKey: trpc.teams.list.queryKey() });
    toast.success(team ? `Renamed to ${saved.name}` : `Created ${saved.name}`);
    onDone();
  };
  const create = useMutation(trpc.teams.create.mutationOptions({ onSuccess: done }));
  const update = useMutation(trpc.teams.update.mutationOptions({ onSuccess: done }));
  const mutation = team ? update : create;

  function submit(event: FormEvent) {
    event.preventDefault();
    if (team) {
      const parsed = teamName.safeParse(name);
      setErrors(parsed.success ? {} : { name: parsed.error.issues[0]!.message });
      if (parsed.success) update.mutate({ id: team.id, name: parsed.data });
      return;
    }
    const input = parseForm(teamCreateInput, { name, slug }, setErrors);
    if (!input) return;
    create.mutate(input);
  }

  return (
    <form onSubmit={submit} noValidate className="space-y-4">
      {mutation.error ? <Alert tone="error">{errorMessage(mutation.error)}</Alert> : null}
      <Field label="Name" error={errors.name} required>
        <Input
          value={name}
          autoFocus
          onChange={(e) => {
            setName(e.target.value);
            if (!team && !slugTouched) setSlug(slugify(e.target.value));
          }}
        />
      </Field>
      <Field label="Slug" hint={team ? "Config files refer to it; it cannot change." : "Lowercase letters, digits and -; used by config files."} error={errors.slug} required>
        <Input value={slug} disabled={team !== undefined} onChange={(e) => (setSlug(e.target.value), setSlugTouched(true))} className="font-mono" />
      </Field>
      <DialogFooter>
        <Button type="submit" loading={mutation.isPending}>
          {team ? "Rename team" : "Create team"}
        </Button>
      </DialogFooter>
    </form>
  );
}
