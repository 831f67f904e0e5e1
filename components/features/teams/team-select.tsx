"use client";
import { useQuery } from "@tanstack/react-query";
import type { SelectHTMLAttributes } from "react";
import { useTRPC } from "@/components/providers/trpc";
import { Select } from "@/components/ui/input";

/** A select of the teams the user may see, with a first empty option (`emptyLabel`: its meaning in this form). */
export function TeamSelect({ emptyLabel, ...props }: Omit<SelectHTMLAttributes<HTMLSelectElement>, "children"> & { emptyLabel: string }) {
  const trpc = useTRPC();
  const teams = useQuery(trpc.teams.list.queryOptions());
  return (
    <Select {...props}>
      <option value="">{emptyLabel}</option>
      {(teams.data ?? []).map((t) => (
        <option key={t.id} value={t.id}>
          {t.name}
        </option>
      ))}
    </Select>
  );
}
