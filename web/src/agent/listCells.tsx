/**
 * The ticket list's row parts as plain elements wearing Mantine's own classes (issue #17).
 *
 * A view switch or a filter change mounts up to 25 new rows at once. Drawn with Mantine
 * components, a row was ~25 of them (ten table cells, a Checkbox of five layers, an Anchor on
 * a Text, a Group of Badges per tag, the status and priority Badges, a Group, a Text and a
 * Tooltip with its portal for the SLA countdown), each resolving props, theme and styles on
 * mount: most of the time between a change's answer and its rows on screen. These render the
 * same markup with the same classes and CSS variables — the look, the roles and the names a
 * screen reader gets are the same — without those layers. The variables a component would
 * compute from its props are computed once per combination (`Badge.varsResolver`).
 */
import {
  Anchor,
  Badge,
  Checkbox,
  Group,
  Table,
  Text,
  Tooltip,
  useMantineTheme,
  type BadgeProps,
  type MantineTheme,
} from "@mantine/core";
import {
  useState,
  type ChangeEvent,
  type CSSProperties,
  type ReactNode,
  type TdHTMLAttributes,
} from "react";

/** A table row as `Table.Tr` draws it in a striped, hover-highlighted table with row borders. */
export function PlainTr({ children, ...props }: { children: ReactNode; "data-testid"?: string }) {
  return (
    <tr
      className={Table.classes.tr}
      data-with-row-border="true"
      data-striped="odd"
      data-hover="true"
      {...props}
    >
      {children}
    </tr>
  );
}

/** A table cell as `Table.Td` draws it. */
export function PlainTd(props: TdHTMLAttributes<HTMLTableCellElement>) {
  return <td className={Table.classes.td} {...props} />;
}

type BadgeLook = Pick<BadgeProps, "color" | "variant" | "size">;

const badgeStyles = new WeakMap<MantineTheme, Map<string, CSSProperties>>();

/** Badge's CSS variables for a color, variant and size, as `Badge` computes them on each mount. */
function badgeStyle(theme: MantineTheme, look: BadgeLook): CSSProperties {
  let known = badgeStyles.get(theme);
  if (!known) badgeStyles.set(theme, (known = new Map<string, CSSProperties>()));
  const key = `${look.color}|${look.variant}|${look.size}`;
  let style = known.get(key);
  if (!style) {
    const vars = Badge.varsResolver(theme, look, {}).root;
    style = Object.fromEntries(Object.entries(vars).filter(([, value]) => value !== undefined));
    known.set(key, style);
  }
  return style;
}

/** A `Badge` (`filled`, `outline` or `dot`) as plain markup. */
export function PlainBadge({
  children,
  style,
  ...look
}: BadgeLook & { children: ReactNode; style?: CSSProperties }) {
  const theme = useMantineTheme();
  const vars = badgeStyle(theme, look);
  const root =
    look.variant === "dot"
      ? `${Badge.classes["root--dot"]} ${Badge.classes.root}`
      : Badge.classes.root;
  return (
    <div
      className={root}
      data-variant={look.variant}
      data-size={look.size}
      style={style ? { ...vars, ...style } : vars}
    >
      <span className={Badge.classes.label}>{children}</span>
    </div>
  );
}

/**
 * A link to a page of the portal as `<Anchor component={Link}>` draws it. A plain click (or
 * Enter) opens the page in the app through `onOpen`; a click with a modifier or another
 * button is the browser's (a new tab, a new window), as with react-router's `Link`, whose
 * own hooks per link (href, location, prefetch) a list of 25 rows does not need.
 */
export function PlainAnchor({
  href,
  onOpen,
  children,
}: {
  href: string;
  onOpen: () => void;
  children: ReactNode;
}) {
  return (
    <a
      href={href}
      onClick={(event) => {
        if (event.defaultPrevented || event.button !== 0) return;
        if (event.metaKey || event.altKey || event.ctrlKey || event.shiftKey) return;
        event.preventDefault();
        onOpen();
      }}
      className={`mantine-focus-auto ${Anchor.classes.root} ${Text.classes.root}`}
      data-underline="hover"
      style={SEMIBOLD}
    >
      {children}
    </a>
  );
}

const SEMIBOLD = { fontWeight: 500 } as const;

/** A `<Group>` of a gap, centred, wrapping or not. */
export function PlainGroup({
  gap,
  wrap,
  style,
  children,
}: {
  gap: string;
  wrap: "wrap" | "nowrap";
  style?: CSSProperties;
  children: ReactNode;
}) {
  return (
    <div
      className={Group.classes.root}
      style={
        {
          "--group-gap": gap,
          "--group-align": "center",
          "--group-justify": "flex-start",
          "--group-wrap": wrap,
          ...style,
        } as CSSProperties
      }
    >
      {children}
    </div>
  );
}

const CHECKBOX_ROOT = {
  "--checkbox-radius": "var(--mantine-radius-sm)",
  "--checkbox-color": "var(--mantine-primary-color-filled)",
} as CSSProperties;

/** A `<Checkbox>` without a label (named by `aria-label`), as plain markup. */
export function PlainCheckbox({
  label,
  checked,
  onChange,
}: {
  label: string;
  checked: boolean;
  onChange: (event: ChangeEvent<HTMLInputElement>) => void;
}) {
  return (
    <div
      className={`${CHECKBOX_CLASS} ${Checkbox.classes.root}`}
      data-variant="filled"
      data-label-position="right"
      data-checked={checked || undefined}
      style={CHECKBOX_ROOT}
    >
      <div className={Checkbox.classes.body}>
        <div className={Checkbox.classes.inner} data-label-position="right">
          <input
            className={`mantine-focus-auto ${Checkbox.classes.input}`}
            data-with-error-styles="true"
            aria-label={label}
            type="checkbox"
            checked={checked}
            onChange={onChange}
          />
          <svg
            viewBox="0 0 10 7"
            fill="none"
            xmlns="http://www.w3.org/2000/svg"
            aria-hidden="true"
            className={Checkbox.classes.icon}
          >
            <path
              d="M4 4.586L1.707 2.293A1 1 0 1 0 .293 3.707l3 3a.997.997 0 0 0 1.414 0l5-5A1 1 0 1 0 8.293.293L4 4.586z"
              fill="currentColor"
              fillRule="evenodd"
              clipRule="evenodd"
            />
          </svg>
        </div>
        <div className={Checkbox.classes.labelWrapper} />
      </div>
    </div>
  );
}

/** Checkbox's own root class (`Checkbox.classes.root` is the inline input's, merged over it). */
const CHECKBOX_CLASS = "m_bf2d988c";

/**
 * A tooltip set up on the first hover: until then its target is drawn alone. A list row's
 * Tooltip otherwise sets up its floating element, its portal node and their effects on every
 * mount, for a label few rows ever show.
 */
export function HoverTooltip({ label, children }: { label: ReactNode; children: ReactNode }) {
  const [opened, setOpened] = useState<boolean | null>(null);
  return (
    <span onMouseEnter={() => setOpened(true)} onMouseLeave={() => setOpened(false)}>
      {opened === null ? (
        children
      ) : (
        <Tooltip label={label} opened={opened}>
          <span>{children}</span>
        </Tooltip>
      )}
    </span>
  );
}
