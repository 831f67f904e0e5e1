-- AlterTable
ALTER TABLE "Call" ADD COLUMN     "savingsCompressionUsd" DECIMAL(20,10) NOT NULL DEFAULT 0;

-- AlterTable
ALTER TABLE "RollupDaily" ADD COLUMN     "savingsCompressionUsd" DECIMAL(24,10) NOT NULL DEFAULT 0;

-- AlterTable
ALTER TABLE "RollupHourly" ADD COLUMN     "savingsCompressionUsd" DECIMAL(24,10) NOT NULL DEFAULT 0;
