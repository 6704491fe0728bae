#!/usr/bin/env bash
# The agent-hook test payloads (tests/agent_hook.rs, fixtures_for_schema_checks)
# type-checked with the TypeScript compiler against the type definitions the
# agents publish in their npm packages, so that a fixture cannot simply agree
# with keyguard's parser:
#   Claude Code  @anthropic-ai/claude-agent-sdk: PreToolUseHookInput,
#                UserPromptSubmitHookInput (sdk.d.ts) and the tool inputs
#                FileWriteInput, FileEditInput, NotebookEditInput, BashInput,
#                FileReadInput, GrepInput (sdk-tools.d.ts)
#   Gemini CLI   @google/gemini-cli-core: BeforeToolInput, BeforeAgentInput
#                (dist/src/hooks/types.d.ts) and WriteFileToolParams,
#                EditToolParams, ShellToolParams, ReadFileToolParams
# Object literals get TypeScript's excess-property check: a misspelt or
# invented field fails, and so does a missing required one. A deliberately
# wrong payload must fail too (the check can fail).
# Not checked here, and why: Codex's payload schemas are generated JSON
# schemas in its repository (codex-rs/hooks/schema/generated), in no package
# a registry serves; Copilot CLI's command-hook payloads are documented on
# docs.github.com only (@github/copilot-sdk types the SDK's in-process hooks,
# a different shape); Cursor publishes no package. Those fixtures follow the
# documentation field by field (see tests/agent_hook.rs).
# Needs npm (the npm registry) and cargo.
set -euo pipefail
# shellcheck source=tests/ecosystem/lib.sh
source "$(dirname "$0")/lib.sh"

eco_tmpdir agent-schemas
if ! command -v npm >/dev/null 2>&1; then
    echo "npm not found: skipped (needs the npm registry)"
    exit 0
fi
CLAUDE_SDK=@anthropic-ai/claude-agent-sdk@0.3.333
GEMINI_CORE=@google/gemini-cli-core@0.61.0
TYPESCRIPT=typescript@7.0.2

work="$ECO_TMP/ts"
mkdir -p "$work/node_modules/@anthropic-ai" "$work/node_modules/@google"
cd "$work"
npm install --no-audit --no-fund --silent --ignore-scripts "$TYPESCRIPT" >/dev/null
# The type packages unpacked, without their dependencies: what they import
# from elsewhere becomes `any` under skipLibCheck; the hook types are their own.
for spec in "$CLAUDE_SDK" "$GEMINI_CORE"; do
    tarball=$(npm pack --silent "$spec")
    name=${spec%@*}
    mkdir -p "node_modules/$name"
    tar xzf "$tarball" -C "node_modules/$name" --strip-components=1
done
echo "tsc: $(./node_modules/.bin/tsc --version); $CLAUDE_SDK; $GEMINI_CORE"

eco_section "the fixtures"
(cd "$ECO_ROOT" && KEYGUARD_AGENT_FIXTURES="$work/fixtures" \
    cargo test --quiet --test integration fixtures_for_schema_checks -- --ignored >/dev/null)
ls fixtures | sed 's/^/    /'

python3 - "$work" <<'PY'
import json, pathlib, sys
work = pathlib.Path(sys.argv[1])
gemini = "./node_modules/@google/gemini-cli-core/dist/src"
head = f'''import type {{ PreToolUseHookInput, UserPromptSubmitHookInput }} from "@anthropic-ai/claude-agent-sdk";
import type {{ FileWriteInput, FileEditInput, NotebookEditInput, BashInput, FileReadInput, GrepInput }} from "@anthropic-ai/claude-agent-sdk/sdk-tools";
import type {{ BeforeToolInput, BeforeAgentInput }} from "{gemini}/hooks/types.js";
import type {{ WriteFileToolParams }} from "{gemini}/tools/write-file.js";
import type {{ EditToolParams }} from "{gemini}/tools/edit.js";
import type {{ ShellToolParams }} from "{gemini}/tools/shell.js";
import type {{ ReadFileToolParams }} from "{gemini}/tools/read-file.js";
'''
types = {
    "claude-PreToolUse-Write": "PreToolUseHookInput & { tool_input: FileWriteInput }",
    "claude-PreToolUse-Edit": "PreToolUseHookInput & { tool_input: FileEditInput }",
    "claude-PreToolUse-NotebookEdit": "PreToolUseHookInput & { tool_input: NotebookEditInput }",
    "claude-PreToolUse-Bash": "PreToolUseHookInput & { tool_input: BashInput }",
    "claude-PreToolUse-Read": "PreToolUseHookInput & { tool_input: FileReadInput }",
    "claude-PreToolUse-Grep": "PreToolUseHookInput & { tool_input: GrepInput }",
    "claude-UserPromptSubmit": "UserPromptSubmitHookInput",
    "gemini-BeforeTool-write_file": "BeforeToolInput & { tool_input: WriteFileToolParams }",
    "gemini-BeforeTool-replace": "BeforeToolInput & { tool_input: EditToolParams }",
    "gemini-BeforeTool-run_shell_command": "BeforeToolInput & { tool_input: ShellToolParams }",
    "gemini-BeforeTool-read_file": "BeforeToolInput & { tool_input: ReadFileToolParams }",
    "gemini-BeforeAgent": "BeforeAgentInput",
}
lines = [head]
for name, ty in types.items():
    payload = json.loads((work / "fixtures" / f"{name}.json").read_text())
    lines.append(f"export const {name.replace('-', '_')}: {ty} = {json.dumps(payload, indent=2)};\n")
(work / "check.ts").write_text("\n".join(lines))
# The controls: a write whose path field is misspelt must not type-check,
# for either agent (so both packages' types were found, not taken as `any`).
for agent, name in [("claude", "claude-PreToolUse-Write"), ("gemini", "gemini-BeforeTool-write_file")]:
    wrong = json.loads((work / "fixtures" / f"{name}.json").read_text())
    wrong["tool_input"]["filepath"] = wrong["tool_input"].pop("file_path")
    (work / f"wrong_{agent}.ts").write_text(head + f"export const wrong: {types[name]} = {json.dumps(wrong)};\n")
print(f"    {len(types)} payloads typed")
PY
# One project per file checked.
tsconfig() {
    cat >"tsconfig.$1.json" <<JSON
{"compilerOptions": {"strict": true, "noEmit": true, "skipLibCheck": true,
  "module": "nodenext", "moduleResolution": "nodenext", "target": "es2022",
  "types": []}, "files": ["$1.ts"]}
JSON
}

eco_section "payloads against the published types"
tsconfig check
eco_capture ./node_modules/.bin/tsc -p tsconfig.check.json
if [ "$RC" -eq 0 ]; then eco_pass "every Claude Code and Gemini CLI payload type-checks"; else
    eco_fail "every Claude Code and Gemini CLI payload type-checks"; eco_show "$OUT" 40; fi
for agent in claude gemini; do
    tsconfig "wrong_$agent"
    eco_capture ./node_modules/.bin/tsc -p "tsconfig.wrong_$agent.json"
    if [ "$RC" -ne 0 ] && printf '%s' "$OUT" | grep -q "filepath"; then
        eco_pass "$agent: a payload with a misspelt field fails the check"
    else
        eco_fail "$agent: a payload with a misspelt field fails the check" "tsc exit $RC"; eco_show "$OUT"
    fi
done
eco_finish agent_schemas
