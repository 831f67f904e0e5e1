"use client";
import { PageHeader } from "@/components/ui/page-header";
import { Tabs, TabsContent, TabsList, TabsTrigger } from "@/components/ui/tabs";
import { ModelsCatalog } from "./models-catalog";
import { ProviderList } from "./provider-list";

export function ProvidersPage() {
  return (
    <div className="mx-auto max-w-7xl">
      <PageHeader title="Providers & models" description="Connect upstream accounts, test them, and decide which models the gateway may use and at what price." />
      <Tabs defaultValue="providers">
        <TabsList aria-label="Providers and models">
          <TabsTrigger value="providers">Providers</TabsTrigger>
          <TabsTrigger value="models">Models</TabsTrigger>
        </TabsList>
        <TabsContent value="providers">
          <ProviderList />
        </TabsContent>
        <TabsContent value="models">
          <ModelsCatalog />
        </TabsContent>
      </Tabs>
    </div>
  );
}
