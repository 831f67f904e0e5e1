/** Runs the one adapter contract for each protocol and for two members of the OpenAI-compatible family. */
import { adapterContract } from "./adapter.contract";
import { anthropicFixture } from "./fixtures/anthropic";
import { deepseekFixture, mistralFixture } from "./fixtures/compat";
import { geminiFixture } from "./fixtures/gemini";
import { openAIFixture } from "./fixtures/openai";

adapterContract("openai", openAIFixture);
adapterContract("anthropic", anthropicFixture);
adapterContract("gemini", geminiFixture);
adapterContract("deepseek (OpenAI-compatible)", deepseekFixture);
adapterContract("mistral (OpenAI-compatible)", mistralFixture);
