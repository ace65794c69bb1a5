/** What the SLA policy, assignment rule, routing rule, calendar and holiday list forms share:
 * the form's shell (title, Save / Cancel with the outcome), a listed item's Edit / Delete buttons,
 * a rule's id, name, order and on/off, and the API's check of a draft as the manager types. */
import {
  Button,
  Checkbox,
  Group,
  NumberInput,
  Paper,
  Stack,
  TextInput,
  Title,
} from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useState, type ReactNode, type SyntheticEvent } from "react";
import { useTranslation } from "react-i18next";
import { SaveResult } from "./common";
import { DraftProblem } from "./ConditionField";
import { useVersionedChange, type VersionedResource } from "./versioned";

/** The service's verdict on a draft: asked 400 ms after the last keystroke; the last answer
 * stays shown while the next is asked. A 422 is the query's error (its message). */
export function useDraftCheck<D, R>(key: string, draft: D, run: (draft: D) => Promise<R>) {
  const [debounced] = useDebouncedValue(draft, 400);
  return useQuery({
    queryKey: [key, debounced],
    retry: false,
    placeholderData: keepPreviousData,
    queryFn: () => run(debounced),
  });
}

interface RuleIdentityValue {
  rule_id?: string;
  name: string;
  order?: number;
  enabled?: boolean;
}

/** A rule's id (fixed once saved), name, order and on/off; ``texts`` is the i18n prefix whose
 * ``id``, ``name``, ``order`` and ``enabled`` label them. */
export function RuleIdentity<R extends RuleIdentityValue>({
  texts,
  rule,
  isNew,
  onChange,
}: {
  texts: string;
  rule: R;
  isNew: boolean;
  onChange: (change: Partial<R>) => void;
}) {
  const { t } = useTranslation();
  return (
    <>
      <Group align="end" grow>
        <TextInput
          label={t(`${texts}.id`)}
          description={t("admin.sla.idHint")}
          required
          disabled={!isNew}
          value={rule.rule_id ?? ""}
          onChange={(e) => onChange({ rule_id: e.currentTarget.value } as Partial<R>)}
        />
        <TextInput
          label={t(`${texts}.name`)}
          required
          value={rule.name}
          onChange={(e) => onChange({ name: e.currentTarget.value } as Partial<R>)}
        />
        <NumberInput
          label={t(`${texts}.order`)}
          description={t("admin.sla.positionHint")}
          value={rule.order ?? 0}
          onChange={(v) => onChange({ order: Number(v) || 0 } as Partial<R>)}
        />
      </Group>
      <Checkbox
        label={t(`${texts}.enabled`)}
        checked={rule.enabled ?? true}
        onChange={(e) => onChange({ enabled: e.currentTarget.checked } as Partial<R>)}
      />
    </>
  );
}

/** Save (disabled while the API says the draft is not valid) and Cancel, then the outcome. */
export function FormButtons({
  saving,
  invalid,
  error,
  onCancel,
}: {
  saving: boolean;
  invalid: boolean;
  error: Error | null;
  onCancel: () => void;
}) {
  const { t } = useTranslation();
  return (
    <>
      <Group>
        <Button type="submit" loading={saving} disabled={invalid}>
          {t("admin.save")}
        </Button>
        <Button variant="default" onClick={onCancel}>
          {t("admin.cancel")}
        </Button>
      </Group>
      <SaveResult error={error} done={false} />
    </>
  );
}

/** The shell of an item's form: its title, the item's fields, Save / Cancel and the outcome.
 * ``level`` 4 for a form within a section of its own (a holiday list's, a calendar's). */
export function EditorForm({
  label,
  title,
  level = 3,
  saving,
  invalid = false,
  error,
  onSave,
  onCancel,
  children,
}: {
  label: string;
  title: string;
  level?: 3 | 4;
  saving: boolean;
  invalid?: boolean;
  error: Error | null;
  onSave: () => void;
  onCancel: () => void;
  children: ReactNode;
}) {
  const submit = (event: SyntheticEvent) => {
    event.preventDefault();
    onSave();
  };
  return (
    <Paper withBorder p="md" component="form" onSubmit={submit} aria-label={label}>
      <Stack>
        <Title order={level} size={level === 3 ? "h4" : "h5"}>
          {title}
        </Title>
        {children}
        <FormButtons saving={saving} invalid={invalid} error={error} onCancel={onCancel} />
      </Stack>
    </Paper>
  );
}

/** The form of a rule (an assignment or routing rule): ``texts`` is the i18n prefix whose
 * ``form``, ``create``, ``edit``, ``id``, ``name``, ``order`` and ``enabled`` label it; the
 * rule's id, name, order and on/off, then the kind's own fields, then Save / Cancel (disabled
 * while the API's check of the draft finds a ``problem``). */
export function RuleEditorForm<R extends RuleIdentityValue>({
  texts,
  initialName,
  isNew,
  rule,
  onChange,
  problem,
  saving,
  error,
  onSave,
  onCancel,
  children,
}: {
  texts: string;
  initialName: string;
  isNew: boolean;
  rule: R;
  onChange: (change: Partial<R>) => void;
  problem: string | null;
  saving: boolean;
  error: Error | null;
  onSave: () => void;
  onCancel: () => void;
  children: ReactNode;
}) {
  const { t } = useTranslation();
  return (
    <EditorForm
      label={t(`${texts}.form`)}
      title={isNew ? t(`${texts}.create`) : t(`${texts}.edit`, { name: initialName })}
      saving={saving}
      invalid={problem !== null}
      error={error}
      onSave={onSave}
      onCancel={onCancel}
    >
      <RuleIdentity texts={texts} rule={rule} isNew={isNew} onChange={onChange} />
      {children}
      <DraftProblem problem={problem} />
    </EditorForm>
  );
}

/** A rule form's state (an assignment or routing rule): the draft, the API's ``check`` of it as
 * the manager types (under the rule's id, or "draft" before it has one) and its ``save`` on the
 * newest version of ``resource`` this page knows; ``form`` is what {@link RuleEditorForm} takes
 * besides its children. The two kinds differ only in their typed API paths, passed in. */
export function useRuleDraft<R extends RuleIdentityValue, C>({
  initial,
  isNew,
  onDone,
  texts,
  checkKey,
  resource,
  check,
  save,
}: {
  initial: R;
  isNew: boolean;
  onDone: () => void;
  texts: string;
  checkKey: string;
  resource: VersionedResource;
  check: (ruleId: string, draft: R) => Promise<C>;
  save: (ruleId: string, rule: R, ifMatch: string) => Promise<unknown>;
}) {
  const [rule, setRule] = useState<R>(initial);
  const set = (change: Partial<R>) => setRule({ ...rule, ...change });
  const checked = useDraftCheck(checkKey, rule, (draft) => {
    const checkId = draft.rule_id || "draft";
    return check(checkId, { ...draft, rule_id: checkId });
  });
  const saving = useVersionedChange(resource, (saved: R, ifMatch: string) =>
    save(saved.rule_id ?? "", saved, ifMatch),
  );
  const form = {
    texts,
    initialName: initial.name,
    isNew,
    rule,
    onChange: set,
    problem: checked.isError ? checked.error.message : null,
    saving: saving.isPending,
    error: saving.error,
    onSave: () => saving.mutate(rule, { onSuccess: onDone }),
    onCancel: onDone,
  };
  return { rule, set, checked, form };
}

/** The form of a named item (a holiday list, a calendar): its id (fixed once saved) and name,
 * the item's own fields, and Save / Cancel. */
export function NamedItemForm({
  idLabel,
  item,
  isNew,
  onChange,
  children,
  ...shell
}: {
  label: string;
  title: string;
  idLabel: string;
  item: { id: string; name: string };
  isNew: boolean;
  onChange: (item: { id: string; name: string }) => void;
  saving: boolean;
  error: Error | null;
  onSave: () => void;
  onCancel: () => void;
  children: ReactNode;
}) {
  const { t } = useTranslation();
  return (
    <EditorForm level={4} {...shell}>
      <Group grow align="end">
        <TextInput
          label={idLabel}
          description={t("admin.sla.idHint")}
          required
          disabled={!isNew}
          value={item.id}
          onChange={(e) => onChange({ ...item, id: e.currentTarget.value })}
        />
        <TextInput
          label={t("admin.calendars.name")}
          required
          maxLength={200}
          value={item.name}
          onChange={(e) => onChange({ ...item, name: e.currentTarget.value })}
        />
      </Group>
      {children}
    </EditorForm>
  );
}
