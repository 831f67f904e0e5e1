-- DropIndex
DROP INDEX "RollupDaily_day_orgId_teamId_apiKeyId_policy_providerKind_m_key";

-- AlterTable
ALTER TABLE "RollupDaily" ADD COLUMN     "providerId" TEXT NOT NULL DEFAULT '';

-- CreateTable
CREATE TABLE "RollupHourly" (
    "id" TEXT NOT NULL,
    "hour" TIMESTAMPTZ(3) NOT NULL,
    "orgId" TEXT NOT NULL,
    "teamId" TEXT NOT NULL DEFAULT '',
    "apiKeyId" TEXT NOT NULL DEFAULT '',
    "policy" TEXT NOT NULL DEFAULT '',
    "providerId" TEXT NOT NULL DEFAULT '',
    "providerKind" TEXT NOT NULL DEFAULT '',
    "model" TEXT NOT NULL DEFAULT '',
    "calls" INTEGER NOT NULL DEFAULT 0,
    "errors" INTEGER NOT NULL DEFAULT 0,
    "cacheHits" INTEGER NOT NULL DEFAULT 0,
    "inputTokens" BIGINT NOT NULL DEFAULT 0,
    "cachedInputTokens" BIGINT NOT NULL DEFAULT 0,
    "cacheWriteTokens" BIGINT NOT NULL DEFAULT 0,
    "outputTokens" BIGINT NOT NULL DEFAULT 0,
    "reasoningTokens" BIGINT NOT NULL DEFAULT 0,
    "costUsd" DECIMAL(24,10) NOT NULL DEFAULT 0,
    "baselineCostUsd" DECIMAL(24,10) NOT NULL DEFAULT 0,
    "savingsRoutingUsd" DECIMAL(24,10) NOT NULL DEFAULT 0,
    "savingsCacheUsd" DECIMAL(24,10) NOT NULL DEFAULT 0,
    "savingsPromptCacheUsd" DECIMAL(24,10) NOT NULL DEFAULT 0,
    "savingsBatchUsd" DECIMAL(24,10) NOT NULL DEFAULT 0,
    "savingsCapsUsd" DECIMAL(24,10) NOT NULL DEFAULT 0,
    "latencyMsSum" BIGINT NOT NULL DEFAULT 0,

    CONSTRAINT "RollupHourly_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "BudgetAlert" (
    "id" TEXT NOT NULL,
    "budgetId" TEXT NOT NULL,
    "orgId" TEXT NOT NULL,
    "subject" TEXT NOT NULL DEFAULT '',
    "periodStart" TIMESTAMPTZ(3) NOT NULL,
    "threshold" INTEGER NOT NULL,
    "limitUsd" DECIMAL(20,10) NOT NULL,
    "spendUsd" DECIMAL(20,10) NOT NULL,
    "webhookStatus" TEXT NOT NULL DEFAULT 'none',
    "webhookError" TEXT,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "BudgetAlert_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "RateLimit" (
    "id" TEXT NOT NULL,
    "orgId" TEXT NOT NULL,
    "teamId" TEXT,
    "model" TEXT,
    "rpmLimit" INTEGER,
    "tpmLimit" INTEGER,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "RateLimit_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "RollupHourly_orgId_hour_idx" ON "RollupHourly"("orgId", "hour");

-- CreateIndex
CREATE UNIQUE INDEX "RollupHourly_hour_orgId_teamId_apiKeyId_policy_providerId_p_key" ON "RollupHourly"("hour", "orgId", "teamId", "apiKeyId", "policy", "providerId", "providerKind", "model");

-- CreateIndex
CREATE INDEX "BudgetAlert_orgId_createdAt_idx" ON "BudgetAlert"("orgId", "createdAt");

-- CreateIndex
CREATE UNIQUE INDEX "BudgetAlert_budgetId_subject_periodStart_threshold_key" ON "BudgetAlert"("budgetId", "subject", "periodStart", "threshold");

-- CreateIndex
CREATE INDEX "RateLimit_orgId_idx" ON "RateLimit"("orgId");

-- CreateIndex
CREATE UNIQUE INDEX "RollupDaily_day_orgId_teamId_apiKeyId_policy_providerId_pro_key" ON "RollupDaily"("day", "orgId", "teamId", "apiKeyId", "policy", "providerId", "providerKind", "model");

-- AddForeignKey
ALTER TABLE "BudgetAlert" ADD CONSTRAINT "BudgetAlert_budgetId_fkey" FOREIGN KEY ("budgetId") REFERENCES "Budget"("id") ON DELETE CASCADE ON UPDATE CASCADE;
