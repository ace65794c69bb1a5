/**
 * Reports (managers, and team leads for their teams): tickets created and solved per day, first
 * response and resolution business time, SLA compliance, CSAT — per team or agent over a chosen
 * period — and the workload (open tickets per agent in each team). Each chart has its figures
 * as a table (readable without the chart, and by screen readers) and a CSV export.
 */
import {
  Button,
  Group,
  Paper,
  SegmentedControl,
  Select,
  SimpleGrid,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
} from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { useState, type ReactElement } from "react";
import { useTranslation } from "react-i18next";
import {
  Bar,
  BarChart,
  CartesianGrid,
  Legend,
  Line,
  LineChart,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from "recharts";
import { api, unwrap } from "../../shared/api/client";
import { useTimeZone } from "../../shared/i18n/timezone";
import { nameOf, useAgents, useTeams } from "../data";
import { downloadCsv, type Cell } from "./csv";

type GroupBy = "team" | "assignee";
const COLOURS = { a: "#1c7ed6", b: "#2b8a3e", c: "#e8590c", d: "#74c0fc", e: "#ffa94d" };
const DAY_MS = 86_400_000;

function isoDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}

function hours(seconds: number | null | undefined): number | null {
  return seconds === null || seconds === undefined ? null : Math.round(seconds / 36) / 100;
}

interface Figures {
  header: string[];
  rows: Cell[][];
}

function ReportCard({
  title,
  file,
  figures,
  children,
}: {
  title: string;
  file: string;
  figures: Figures;
  children: ReactElement;
}) {
  const { t } = useTranslation();
  return (
    <Paper withBorder p="md" component="section" aria-label={title}>
      <Group justify="space-between" mb="sm">
        <Title order={3} size="h5">
          {title}
        </Title>
        <Button
          size="xs"
          variant="default"
          aria-label={t("admin.reports.exportCsv", { report: title })}
          onClick={() => downloadCsv(`${file}.csv`, figures.header, figures.rows)}
        >
          CSV
        </Button>
      </Group>
      {figures.rows.length === 0 ? (
        <Text size="sm">{t("admin.reports.noData")}</Text>
      ) : (
        <>
          <div style={{ width: "100%", height: 240 }} aria-hidden="true">
            <ResponsiveContainer>{children}</ResponsiveContainer>
          </div>
          <Table.ScrollContainer minWidth={300} mah={220} mt="sm">
            <Table
              striped
              withTableBorder
              fz="xs"
              aria-label={t("admin.reports.table", { report: title })}
            >
              <Table.Thead>
                <Table.Tr>
                  {figures.header.map((h) => (
                    <Table.Th key={h}>{h}</Table.Th>
                  ))}
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {figures.rows.map((row, i) => (
                  <Table.Tr key={i}>
                    {row.map((cell, j) => (
                      <Table.Td key={j}>{cell ?? "–"}</Table.Td>
                    ))}
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        </>
      )}
    </Paper>
  );
}

export default function ReportsAdmin() {
  const { t } = useTranslation();
  const zone = useTimeZone();
  const today = new Date();
  const [from, setFrom] = useState(isoDay(new Date(today.getTime() - 29 * DAY_MS)));
  const [to, setTo] = useState(isoDay(today));
  const [groupBy, setGroupBy] = useState<GroupBy>("team");
  const [only, setOnly] = useState<string | null>(null);
  const teams = useTeams();
  const agents = useAgents();
  const period = { from, to, group_by: groupBy };
  const valid = from !== "" && to !== "" && from <= to;

  const volume = useQuery({
    queryKey: ["reports", "volume", period, zone],
    enabled: valid,
    queryFn: async () =>
      unwrap(
        await api.GET("/reports/volume", { params: { query: { ...period, time_zone: zone } } }),
      ),
  });
  const sla = useQuery({
    queryKey: ["reports", "sla", period],
    enabled: valid,
    queryFn: async () => unwrap(await api.GET("/reports/sla", { params: { query: period } })),
  });
  const csat = useQuery({
    queryKey: ["reports", "csat", period],
    enabled: valid,
    queryFn: async () => unwrap(await api.GET("/reports/csat", { params: { query: period } })),
  });
  const workload = useQuery({
    queryKey: ["reports", "workload"],
    queryFn: async () => unwrap(await api.GET("/reports/workload")),
  });

  const groups = groupBy === "team" ? teams.data : agents.data;
  const groupName = (id: string | null | undefined): string =>
    nameOf(groups, id) ??
    (id
      ? id.slice(0, 8)
      : groupBy === "team"
        ? t("admin.reports.noTeam")
        : t("admin.reports.noAgent"));
  const keep = (id: string | null | undefined) => only === null || id === only;
  const groupHeader = groupBy === "team" ? t("admin.reports.team") : t("admin.reports.agent");

  // Created / solved per day (summed over the groups shown)
  const perDay = new Map<string, { created: number; solved: number }>();
  for (const d of volume.data?.days ?? []) {
    if (!keep(d.group_id)) continue;
    const entry = perDay.get(d.day) ?? { created: 0, solved: 0 };
    entry.created += d.created;
    entry.solved += d.solved;
    perDay.set(d.day, entry);
  }
  const days = [...perDay.entries()].sort(([a], [b]) => a.localeCompare(b));
  const volumeFigures: Figures = {
    header: [t("admin.reports.day"), t("admin.reports.created"), t("admin.reports.solved")],
    rows: days.map(([day, v]) => [day, v.created, v.solved]),
  };
  const volumeData = days.map(([day, v]) => ({ day, ...v }));

  const slaGroups = (sla.data?.groups ?? []).filter((g) => keep(g.group_id));
  const timeData = slaGroups.map((g) => ({
    group: groupName(g.group_id),
    firstMedian: hours(g.first_response.median_business_seconds),
    firstP90: hours(g.first_response.p90_business_seconds),
    resolutionMedian: hours(g.resolution.median_business_seconds),
    resolutionP90: hours(g.resolution.p90_business_seconds),
  }));
  const timeLabels = {
    firstMedian: `${t("admin.reports.firstResponse")}, ${t("admin.reports.median")}`,
    firstP90: `${t("admin.reports.firstResponse")}, p90`,
    resolutionMedian: `${t("admin.reports.resolution")}, ${t("admin.reports.median")}`,
    resolutionP90: `${t("admin.reports.resolution")}, p90`,
  };
  const timeFigures: Figures = {
    header: [
      groupHeader,
      ...Object.values(timeLabels).map((l) => `${l} (${t("admin.reports.hours")})`),
    ],
    rows: timeData.map((d) => [
      d.group,
      d.firstMedian,
      d.firstP90,
      d.resolutionMedian,
      d.resolutionP90,
    ]),
  };
  const complianceData = slaGroups.map((g) => ({
    group: groupName(g.group_id),
    first: g.first_response.compliance,
    next: g.next_response.compliance,
    resolution: g.resolution.compliance,
  }));
  const complianceFigures: Figures = {
    header: [
      groupHeader,
      t("admin.reports.firstResponse"),
      t("admin.reports.nextResponse"),
      t("admin.reports.resolution"),
    ],
    rows: complianceData.map((d) => [d.group, d.first, d.next, d.resolution]),
  };

  const csatData = (csat.data?.groups ?? [])
    .filter((g) => keep(g.group_id))
    .map((g) => ({ group: groupName(g.group_id), csat: g.csat, ratings: g.ratings }));
  const csatFigures: Figures = {
    header: [groupHeader, "CSAT %", t("admin.reports.ratings")],
    rows: csatData.map((d) => [d.group, d.csat, d.ratings]),
  };

  const workloadRows = (workload.data?.rows ?? []).filter(
    (r) => only === null || (groupBy === "team" ? r.team_id === only : r.assignee_id === only),
  );
  const workloadData = workloadRows.map((r) => ({
    label: `${nameOf(teams.data, r.team_id) ?? t("admin.reports.noTeam")} · ${
      nameOf(agents.data, r.assignee_id) ?? t("admin.reports.noAgent")
    }`,
    open: r.open,
    breached: r.breached,
  }));
  const workloadFigures: Figures = {
    header: [
      t("admin.reports.team"),
      t("admin.reports.agent"),
      t("admin.reports.open"),
      t("admin.reports.breached"),
    ],
    rows: workloadRows.map((r) => [
      nameOf(teams.data, r.team_id) ?? t("admin.reports.noTeam"),
      nameOf(agents.data, r.assignee_id) ?? t("admin.reports.noAgent"),
      r.open,
      r.breached,
    ]),
  };

  return (
    <Stack>
      <Group align="end" wrap="wrap">
        <TextInput
          type="date"
          label={t("admin.reports.from")}
          value={from}
          max={to}
          onChange={(e) => setFrom(e.currentTarget.value)}
        />
        <TextInput
          type="date"
          label={t("admin.reports.to")}
          value={to}
          min={from}
          onChange={(e) => setTo(e.currentTarget.value)}
        />
        <Stack gap={4}>
          <Text size="sm" fw={500} id="report-group-by">
            {t("admin.reports.groupBy")}
          </Text>
          <SegmentedControl
            aria-labelledby="report-group-by"
            value={groupBy}
            onChange={(value) => {
              setGroupBy(value);
              setOnly(null);
            }}
            data={[
              { value: "team", label: t("admin.reports.byTeam") },
              { value: "assignee", label: t("admin.reports.byAgent") },
            ]}
          />
        </Stack>
        <Select
          label={t("admin.reports.show")}
          placeholder={t("admin.reports.all")}
          data={(groups ?? []).map((g) => ({ value: g.id, label: g.name }))}
          value={only}
          onChange={setOnly}
          clearable
          searchable
          w={220}
        />
      </Group>
      <ReportCard title={t("admin.reports.volume")} file="tickets-per-day" figures={volumeFigures}>
        <LineChart accessibilityLayer={false} data={volumeData}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis dataKey="day" />
          <YAxis allowDecimals={false} />
          <Tooltip />
          <Legend />
          <Line dataKey="created" name={t("admin.reports.created")} stroke={COLOURS.a} />
          <Line dataKey="solved" name={t("admin.reports.solved")} stroke={COLOURS.b} />
        </LineChart>
      </ReportCard>
      <SimpleGrid cols={{ base: 1, lg: 2 }}>
        <ReportCard title={t("admin.reports.times")} file="response-times" figures={timeFigures}>
          <BarChart accessibilityLayer={false} data={timeData}>
            <CartesianGrid strokeDasharray="3 3" />
            <XAxis dataKey="group" />
            <YAxis unit="h" />
            <Tooltip />
            <Legend />
            <Bar dataKey="firstMedian" name={timeLabels.firstMedian} fill={COLOURS.a} />
            <Bar dataKey="firstP90" name={timeLabels.firstP90} fill={COLOURS.d} />
            <Bar dataKey="resolutionMedian" name={timeLabels.resolutionMedian} fill={COLOURS.c} />
            <Bar dataKey="resolutionP90" name={timeLabels.resolutionP90} fill={COLOURS.e} />
          </BarChart>
        </ReportCard>
        <ReportCard
          title={t("admin.reports.compliance")}
          file="sla-compliance"
          figures={complianceFigures}
        >
          <BarChart accessibilityLayer={false} data={complianceData}>
            <CartesianGrid strokeDasharray="3 3" />
            <XAxis dataKey="group" />
            <YAxis domain={[0, 100]} unit="%" />
            <Tooltip />
            <Legend />
            <Bar dataKey="first" name={t("admin.reports.firstResponse")} fill={COLOURS.a} />
            <Bar dataKey="next" name={t("admin.reports.nextResponse")} fill={COLOURS.b} />
            <Bar dataKey="resolution" name={t("admin.reports.resolution")} fill={COLOURS.c} />
          </BarChart>
        </ReportCard>
        <ReportCard title={t("admin.reports.csat")} file="csat" figures={csatFigures}>
          <BarChart accessibilityLayer={false} data={csatData}>
            <CartesianGrid strokeDasharray="3 3" />
            <XAxis dataKey="group" />
            <YAxis domain={[0, 100]} unit="%" />
            <Tooltip />
            <Bar dataKey="csat" name="CSAT" fill={COLOURS.b} />
          </BarChart>
        </ReportCard>
        <ReportCard title={t("admin.reports.workload")} file="workload" figures={workloadFigures}>
          <BarChart accessibilityLayer={false} data={workloadData} layout="vertical">
            <CartesianGrid strokeDasharray="3 3" />
            <XAxis type="number" allowDecimals={false} />
            <YAxis type="category" dataKey="label" width={160} />
            <Tooltip />
            <Legend />
            <Bar dataKey="open" name={t("admin.reports.open")} fill={COLOURS.a} />
            <Bar dataKey="breached" name={t("admin.reports.breached")} fill={COLOURS.c} />
          </BarChart>
        </ReportCard>
      </SimpleGrid>
    </Stack>
  );
}
