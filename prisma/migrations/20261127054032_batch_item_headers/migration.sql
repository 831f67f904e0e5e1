-- AlterTable
ALTER TABLE "BatchItem" ADD COLUMN     "headers" JSONB;
