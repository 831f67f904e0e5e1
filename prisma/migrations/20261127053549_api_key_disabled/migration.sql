-- AlterTable
ALTER TABLE "ApiKey" ADD COLUMN     "disabledAt" TIMESTAMPTZ(3);
