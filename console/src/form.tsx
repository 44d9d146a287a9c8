// Forms generated from a description of their fields: a workflow's input schema, or a
// clarification step's questions.
import { useState, type FormEvent } from "react";
import type { JsonSchema, Question } from "./types";

export interface Field {
  name: string;
  label: string;
  kind: "text" | "number" | "integer" | "boolean" | "choice" | "multi_choice" | "date" | "json";
  required: boolean;
  options?: string[];
  initial?: unknown;
  hint?: string;
}

export function schemaFields(schema: JsonSchema | null): Field[] {
  const properties = schema?.properties ?? {};
  const required = new Set(schema?.required ?? []);
  return Object.entries(properties).map(([name, property]) => {
    const type = Array.isArray(property.type) ? property.type[0] : property.type;
    let kind: Field["kind"] = "json";
    if (property.enum) kind = "choice";
    else if (type === "string") kind = "text";
    else if (type === "number" || type === "integer" || type === "boolean") kind = type;
    return {
      name,
      label: property.title ?? name,
      kind,
      required: required.has(name),
      options: property.enum?.map(String),
      initial: property.default,
      hint: property.description,
    };
  });
}

export function questionFields(questions: Question[]): Field[] {
  return questions.map((question, index) => ({
    name: question.id ?? `q${index}`,
    label: question.text ?? question.id ?? `Question ${index + 1}`,
    kind: (question.type as Field["kind"]) ?? "text",
    required: question.required ?? true,
    options: question.options ?? question.choices,
    initial: question.default ?? undefined,
  }));
}

type Values = Record<string, string | boolean | string[]>;

function start(field: Field): string | boolean | string[] {
  if (field.kind === "boolean") return field.initial === true;
  if (field.kind === "multi_choice") return Array.isArray(field.initial) ? field.initial : [];
  if (field.initial === undefined || field.initial === null) return "";
  return field.kind === "json" ? JSON.stringify(field.initial) : String(field.initial);
}

// The form's text as the values the API takes; a field left empty is left out.
function parsed(fields: Field[], values: Values): Record<string, unknown> {
  const found: Record<string, unknown> = {};
  for (const field of fields) {
    const value = values[field.name];
    if (field.kind === "boolean" || field.kind === "multi_choice") {
      found[field.name] = value;
      continue;
    }
    const text = String(value ?? "").trim();
    if (text === "") continue;
    if (field.kind === "number" || field.kind === "integer") found[field.name] = Number(text);
    else if (field.kind === "json") found[field.name] = JSON.parse(text);
    else found[field.name] = text;
  }
  return found;
}

export function GeneratedForm({
  id,
  fields,
  submitLabel,
  onSubmit,
}: {
  id: string;
  fields: Field[];
  submitLabel: string;
  onSubmit: (values: Record<string, unknown>) => Promise<void>;
}) {
  const [values, setValues] = useState<Values>(() =>
    Object.fromEntries(fields.map((field) => [field.name, start(field)])),
  );
  const [failure, setFailure] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const set = (name: string, value: string | boolean | string[]) =>
    setValues((before) => ({ ...before, [name]: value }));

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setFailure(null);
    setBusy(true);
    try {
      await onSubmit(parsed(fields, values));
    } catch (error) {
      setFailure(error instanceof Error ? error.message : String(error));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form onSubmit={submit} className="generated" aria-label={submitLabel}>
      {fields.length === 0 && <p className="hint">This takes no input.</p>}
      {fields.map((field) => (
        <FieldInput
          key={field.name}
          id={`${id}-${field.name}`}
          field={field}
          value={values[field.name]}
          onChange={(value) => set(field.name, value)}
        />
      ))}
      {failure && (
        <p role="alert" className="error">
          {failure}
        </p>
      )}
      <button type="submit" disabled={busy}>
        {busy ? "Sending…" : submitLabel}
      </button>
    </form>
  );
}

function FieldInput({
  id,
  field,
  value,
  onChange,
}: {
  id: string;
  field: Field;
  value: string | boolean | string[];
  onChange: (value: string | boolean | string[]) => void;
}) {
  const label = `${field.label}${field.required ? " (required)" : ""}`;
  const hint = field.hint ? <small id={`${id}-hint`}>{field.hint}</small> : null;
  const described = field.hint ? `${id}-hint` : undefined;
  if (field.kind === "boolean") {
    return (
      <div className="field check">
        <input
          id={id}
          type="checkbox"
          checked={value === true}
          onChange={(event) => onChange(event.target.checked)}
          aria-describedby={described}
        />
        <label htmlFor={id}>{field.label}</label>
        {hint}
      </div>
    );
  }
  if (field.kind === "multi_choice") {
    const picked = Array.isArray(value) ? value : [];
    return (
      <fieldset className="field">
        <legend>{label}</legend>
        {(field.options ?? []).map((option) => (
          <label key={option} className="check">
            <input
              type="checkbox"
              checked={picked.includes(option)}
              onChange={(event) =>
                onChange(
                  event.target.checked
                    ? [...picked, option]
                    : picked.filter((one) => one !== option),
                )
              }
            />
            {option}
          </label>
        ))}
      </fieldset>
    );
  }
  if (field.kind === "choice") {
    return (
      <div className="field">
        <label htmlFor={id}>{label}</label>
        <select
          id={id}
          value={String(value)}
          required={field.required}
          onChange={(event) => onChange(event.target.value)}
        >
          <option value="">Choose…</option>
          {(field.options ?? []).map((option) => (
            <option key={option}>{option}</option>
          ))}
        </select>
        {hint}
      </div>
    );
  }
  const type = { number: "number", integer: "number", date: "date" }[field.kind as string];
  return (
    <div className="field">
      <label htmlFor={id}>{field.kind === "json" ? `${label} (JSON)` : label}</label>
      {field.kind === "json" ? (
        <textarea
          id={id}
          value={String(value)}
          required={field.required}
          onChange={(event) => onChange(event.target.value)}
          aria-describedby={described}
        />
      ) : (
        <input
          id={id}
          name={field.name}
          type={type ?? "text"}
          step={field.kind === "number" ? "any" : undefined}
          value={String(value)}
          required={field.required}
          onChange={(event) => onChange(event.target.value)}
          aria-describedby={described}
        />
      )}
      {hint}
    </div>
  );
}
