-- AlterTable
ALTER TABLE "ApiKey" ADD COLUMN     "deferrable" BOOLEAN NOT NULL DEFAULT false;

-- CreateTable
CREATE TABLE "BatchFile" (
    "id" TEXT NOT NULL,
    "orgId" TEXT NOT NULL,
    "teamId" TEXT NOT NULL,
    "apiKeyId" TEXT,
    "purpose" TEXT NOT NULL,
    "filename" TEXT NOT NULL,
    "bytes" INTEGER NOT NULL,
    "content" BYTEA NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expiresAt" TIMESTAMPTZ(3),

    CONSTRAINT "BatchFile_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "BatchJob" (
    "id" TEXT NOT NULL,
    "orgId" TEXT NOT NULL,
    "teamId" TEXT NOT NULL,
    "apiKeyId" TEXT NOT NULL,
    "endpoint" TEXT NOT NULL,
    "inputFileId" TEXT NOT NULL,
    "completionWindow" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "outputFileId" TEXT,
    "errorFileId" TEXT,
    "metadata" JSONB,
    "errors" JSONB,
    "requestTotal" INTEGER NOT NULL DEFAULT 0,
    "requestCompleted" INTEGER NOT NULL DEFAULT 0,
    "requestFailed" INTEGER NOT NULL DEFAULT 0,
    "deferred" BOOLEAN NOT NULL DEFAULT false,
    "webhookUrl" TEXT,
    "webhookStatus" TEXT NOT NULL DEFAULT 'none',
    "webhookAttempts" INTEGER NOT NULL DEFAULT 0,
    "webhookNextAt" TIMESTAMPTZ(3),
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,
    "expiresAt" TIMESTAMPTZ(3) NOT NULL,
    "inProgressAt" TIMESTAMPTZ(3),
    "finalizingAt" TIMESTAMPTZ(3),
    "completedAt" TIMESTAMPTZ(3),
    "failedAt" TIMESTAMPTZ(3),
    "expiredAt" TIMESTAMPTZ(3),
    "cancellingAt" TIMESTAMPTZ(3),
    "cancelledAt" TIMESTAMPTZ(3),

    CONSTRAINT "BatchJob_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "BatchItem" (
    "id" TEXT NOT NULL,
    "batchId" TEXT NOT NULL,
    "line" INTEGER NOT NULL,
    "customId" TEXT NOT NULL,
    "url" TEXT NOT NULL,
    "body" JSONB NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'pending',
    "mode" TEXT,
    "providerBatchId" TEXT,
    "notBefore" TIMESTAMPTZ(3) NOT NULL,
    "callId" TEXT NOT NULL,
    "response" JSONB,
    "error" JSONB,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finishedAt" TIMESTAMPTZ(3),

    CONSTRAINT "BatchItem_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ProviderBatch" (
    "id" TEXT NOT NULL,
    "orgId" TEXT NOT NULL,
    "providerId" TEXT NOT NULL,
    "providerName" TEXT NOT NULL,
    "protocol" TEXT NOT NULL,
    "model" TEXT NOT NULL,
    "endpoint" TEXT NOT NULL,
    "upstreamId" TEXT,
    "upstreamFileId" TEXT,
    "status" TEXT NOT NULL,
    "polls" INTEGER NOT NULL DEFAULT 0,
    "nextPollAt" TIMESTAMPTZ(3) NOT NULL,
    "error" TEXT,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "ProviderBatch_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "BatchLease" (
    "name" TEXT NOT NULL,
    "owner" TEXT NOT NULL,
    "expiresAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "BatchLease_pkey" PRIMARY KEY ("name")
);

-- CreateIndex
CREATE INDEX "BatchFile_orgId_teamId_createdAt_idx" ON "BatchFile"("orgId", "teamId", "createdAt");

-- CreateIndex
CREATE INDEX "BatchJob_orgId_teamId_createdAt_idx" ON "BatchJob"("orgId", "teamId", "createdAt");

-- CreateIndex
CREATE INDEX "BatchJob_status_idx" ON "BatchJob"("status");

-- CreateIndex
CREATE INDEX "BatchItem_status_notBefore_idx" ON "BatchItem"("status", "notBefore");

-- CreateIndex
CREATE INDEX "BatchItem_providerBatchId_idx" ON "BatchItem"("providerBatchId");

-- CreateIndex
CREATE UNIQUE INDEX "BatchItem_batchId_line_key" ON "BatchItem"("batchId", "line");

-- CreateIndex
CREATE INDEX "ProviderBatch_status_nextPollAt_idx" ON "ProviderBatch"("status", "nextPollAt");

-- AddForeignKey
ALTER TABLE "BatchItem" ADD CONSTRAINT "BatchItem_batchId_fkey" FOREIGN KEY ("batchId") REFERENCES "BatchJob"("id") ON DELETE CASCADE ON UPDATE CASCADE;
