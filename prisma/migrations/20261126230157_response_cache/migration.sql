-- AlterTable
ALTER TABLE "CacheRule" ADD COLUMN     "embedder" TEXT NOT NULL DEFAULT 'local';

-- CreateTable
CREATE TABLE "CacheEntry" (
    "id" TEXT NOT NULL,
    "orgId" TEXT NOT NULL,
    "teamId" TEXT NOT NULL,
    "apiKeyId" TEXT,
    "ruleId" TEXT,
    "namespace" TEXT NOT NULL,
    "exactKey" TEXT NOT NULL,
    "contextHash" TEXT NOT NULL,
    "query" TEXT NOT NULL,
    "embedder" TEXT NOT NULL,
    "embedding" BYTEA NOT NULL,
    "answer" JSONB NOT NULL,
    "bytes" INTEGER NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL,
    "expiresAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "CacheEntry_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "CachePurge" (
    "id" TEXT NOT NULL,
    "orgId" TEXT NOT NULL,
    "ruleId" TEXT,
    "teamId" TEXT,
    "before" TIMESTAMPTZ(3) NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "CachePurge_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "CacheEntry_createdAt_idx" ON "CacheEntry"("createdAt");

-- CreateIndex
CREATE INDEX "CacheEntry_expiresAt_idx" ON "CacheEntry"("expiresAt");

-- CreateIndex
CREATE INDEX "CacheEntry_orgId_teamId_idx" ON "CacheEntry"("orgId", "teamId");

-- CreateIndex
CREATE INDEX "CacheEntry_ruleId_idx" ON "CacheEntry"("ruleId");

-- CreateIndex
CREATE INDEX "CachePurge_createdAt_idx" ON "CachePurge"("createdAt");
