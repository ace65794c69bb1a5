/**
 * Named holiday lists (the SLA service's /holiday-lists): a national holiday is entered once, in
 * a list that calendars and policies link. The list with who uses each, a form (dates, ranges,
 * yearly dates - the calendar editor's holiday rows), and delete, whose 409 names the users.
 */
import { Stack, Title } from "@mantine/core";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { unwrap } from "../../shared/api/client";
import type { AdminSchemas } from "./adminApi";
import { adminApi } from "./adminApi";
import { sharedColumns } from "./calendarParts";
import { HolidayFields } from "./CalendarFields";
import { NamedItemForm } from "./editing";
import { ItemsEditor, type Editing } from "./ItemsEditor";
import { useHolidayLists, useSlaChange, type HolidayListView } from "./slaConfig";

type HolidayList = AdminSchemas["HolidayListDocument"];

function ListForm({ draft: initial, isNew, onDone }: Editing<HolidayList>) {
  const { t } = useTranslation();
  const [list, setList] = useState<HolidayList>(initial);
  const save = useSlaChange(async (saved: HolidayList, ifMatch: string) =>
    unwrap(
      await adminApi.PUT("/holiday-lists/{holiday_list_id}", {
        params: {
          path: { holiday_list_id: saved.holiday_list_id },
          header: { "If-Match": ifMatch },
        },
        body: saved,
      }),
    ),
  );
  return (
    <NamedItemForm
      label={t("admin.calendars.listForm")}
      title={
        isNew ? t("admin.calendars.newList") : t("admin.calendars.editList", { name: initial.name })
      }
      idLabel={t("admin.calendars.listId")}
      item={{ id: list.holiday_list_id, name: list.name }}
      isNew={isNew}
      onChange={({ id, name }) => setList({ ...list, holiday_list_id: id, name })}
      saving={save.isPending}
      error={save.error}
      onSave={() => save.mutate(list, { onSuccess: onDone })}
      onCancel={onDone}
    >
      <HolidayFields
        holidays={list.holidays}
        onChange={(holidays) => setList({ ...list, holidays })}
      />
    </NamedItemForm>
  );
}

function editable(view: HolidayListView): HolidayList {
  return { holiday_list_id: view.holiday_list_id, name: view.name, holidays: view.holidays };
}

export function HolidayListsAdmin() {
  const { t } = useTranslation();
  const lists = useHolidayLists();
  const remove = useSlaChange(async (id: string, ifMatch: string) =>
    unwrap(
      await adminApi.DELETE("/holiday-lists/{holiday_list_id}", {
        params: { path: { holiday_list_id: id }, header: { "If-Match": ifMatch } },
      }),
    ),
  );
  return (
    <Stack>
      <Title order={3} size="h4">
        {t("admin.calendars.holidayLists")}
      </Title>
      <ItemsEditor
        rows={lists.data?.value ?? []}
        rowKey={(row) => row.holiday_list_id}
        testId="holiday-list-row"
        columns={sharedColumns<HolidayListView>(t, [
          {
            heading: t("admin.calendars.holidays"),
            cell: (row) => t("admin.calendars.holidayCount", { count: row.holidays.length }),
          },
        ])}
        empty={t("admin.calendars.noLists")}
        name={(row) => row.name}
        edit={editable}
        remove={remove}
        newLabel={t("admin.calendars.newList")}
        newDraft={() => ({ holiday_list_id: "", name: "", holidays: [] })}
        form={(editing) => <ListForm {...editing} />}
      />
    </Stack>
  );
}
