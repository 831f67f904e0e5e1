-- AlterTable
ALTER TABLE "BatchItem" ADD COLUMN     "plan" JSONB;
