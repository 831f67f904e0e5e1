-- CreateTable
CREATE TABLE "Feedback" (
    "id" TEXT NOT NULL,
    "orgId" TEXT NOT NULL,
    "callId" TEXT NOT NULL,
    "apiKeyId" TEXT NOT NULL,
    "policy" TEXT,
    "target" TEXT,
    "tier" INTEGER,
    "score" DOUBLE PRECISION NOT NULL,
    "label" TEXT,
    "features" TEXT,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "Feedback_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "RoutingModel" (
    "id" TEXT NOT NULL,
    "orgId" TEXT NOT NULL,
    "policy" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "model" JSONB NOT NULL,
    "samples" INTEGER NOT NULL,
    "metrics" JSONB,
    "trainedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "RoutingModel_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "Feedback_orgId_policy_createdAt_idx" ON "Feedback"("orgId", "policy", "createdAt");

-- CreateIndex
CREATE UNIQUE INDEX "Feedback_callId_apiKeyId_key" ON "Feedback"("callId", "apiKeyId");

-- CreateIndex
CREATE UNIQUE INDEX "RoutingModel_orgId_policy_key" ON "RoutingModel"("orgId", "policy");
