/**
 * Which statuses pause or fulfil each SLA metric: per status category (paused, resolved,
 * closed; new and active mean work is under way) and, for single statuses of the ticket
 * options, a rule of their own (a status named here decides alone; the others follow their
 * category). The SLA service refuses what cannot be (a response fulfilled by a status, a
 * metric both paused and fulfilled); its message is the form's.
 */
import { Fieldset, MultiSelect, SimpleGrid, Table, Text } from "@mantine/core";
import { useTranslation } from "react-i18next";
import { useTicketOptions } from "../data";
import type { AdminSchemas } from "./adminApi";

type Policy = AdminSchemas["PolicyDocument"];
type Metric = AdminSchemas["SlaMetric"];
const METRICS: Metric[] = ["first_response", "next_response", "resolution"];
const CATEGORIES = ["paused", "resolved", "closed"] as const;

type Rules = Record<string, Metric[] | undefined>;

/** ``rules`` with ``key`` set to ``metrics`` (left out when none). */
function withMetrics(rules: Rules | undefined, key: string, metrics: string[]): Rules {
  const others = Object.entries(rules ?? {}).filter(([name]) => name !== key);
  return Object.fromEntries(metrics.length > 0 ? [...others, [key, metrics]] : others) as Rules;
}

export function StatusRules({
  policy,
  onChange,
}: {
  policy: Policy;
  onChange: (change: Partial<Policy>) => void;
}) {
  const { t } = useTranslation();
  const options = useTicketOptions();
  const metricData = METRICS.map((m) => ({ value: m, label: t(`admin.sla.metrics.${m}`) }));
  const pausing = policy.pausing as Rules;
  const fulfilling = policy.fulfilling as Rules;
  const pausingStatuses = policy.pausing_statuses as Rules;
  const fulfillingStatuses = policy.fulfilling_statuses as Rules;
  return (
    <Fieldset legend={t("admin.sla.statusRules")}>
      <Text size="sm" mb="xs">
        {t("admin.sla.categoryRulesHint")}
      </Text>
      <SimpleGrid cols={{ base: 1, sm: 3 }}>
        {CATEGORIES.map((category) => {
          const name = t(`admin.category.${category}`);
          return (
            <Fieldset key={category} legend={name} variant="unstyled">
              <MultiSelect
                label={t("admin.sla.pauses", { what: name })}
                data={metricData}
                value={pausing[category] ?? []}
                onChange={(m) =>
                  onChange({ pausing: withMetrics(pausing, category, m) as Policy["pausing"] })
                }
              />
              <MultiSelect
                label={t("admin.sla.fulfils", { what: name })}
                data={metricData}
                value={fulfilling[category] ?? []}
                onChange={(m) =>
                  onChange({
                    fulfilling: withMetrics(fulfilling, category, m) as Policy["fulfilling"],
                  })
                }
              />
            </Fieldset>
          );
        })}
      </SimpleGrid>
      <Text size="sm" mt="md" mb="xs">
        {t("admin.sla.statusRulesHint")}
      </Text>
      <Table.ScrollContainer minWidth={560}>
        <Table>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>{t("admin.options.statusName")}</Table.Th>
              <Table.Th>{t("admin.sla.pausesHeading")}</Table.Th>
              <Table.Th>{t("admin.sla.fulfilsHeading")}</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {(options.data?.statuses ?? []).map((status) => (
              <Table.Tr key={status.name}>
                <Table.Td>
                  {status.name} ({t(`admin.category.${status.category}`)})
                </Table.Td>
                <Table.Td>
                  <MultiSelect
                    aria-label={t("admin.sla.pauses", { what: status.name })}
                    data={metricData}
                    value={pausingStatuses[status.name] ?? []}
                    onChange={(m) =>
                      onChange({
                        pausing_statuses: withMetrics(
                          pausingStatuses,
                          status.name,
                          m,
                        ) as Policy["pausing_statuses"],
                      })
                    }
                  />
                </Table.Td>
                <Table.Td>
                  <MultiSelect
                    aria-label={t("admin.sla.fulfils", { what: status.name })}
                    data={metricData}
                    value={fulfillingStatuses[status.name] ?? []}
                    onChange={(m) =>
                      onChange({
                        fulfilling_statuses: withMetrics(
                          fulfillingStatuses,
                          status.name,
                          m,
                        ) as Policy["fulfilling_statuses"],
                      })
                    }
                  />
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
    </Fieldset>
  );
}
