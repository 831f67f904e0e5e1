-- AlterTable
ALTER TABLE "ApiKey" ADD COLUMN     "kind" TEXT NOT NULL DEFAULT 'client';
