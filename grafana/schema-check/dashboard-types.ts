/**
 * The shape routewatch's dashboards are checked against: Grafana's own published
 * dashboard schema (`@grafana/schema`: the dashboard JSON model and each panel
 * plugin's options and field config), made strict enough that a misspelt key
 * anywhere in a panel, its options, field config or targets is a type error.
 *
 * Three adaptations, each only loosening what JSON cannot express or the schema
 * leaves unpublished:
 * - `Json<T>` turns the schema's string enums into their string values (a JSON
 *   file cannot name `BigValueColorMode.Value`, only "value");
 * - `PrometheusTarget` is routewatch's reading of the Prometheus query model, which
 *   `@grafana/schema` does not publish (it types targets as open records);
 * - `PrometheusAnnotation` adds the Prometheus annotation query's own keys
 *   (`expr`, `step`, `titleFormat`, ...), which Grafana stores beside the
 *   schema's `AnnotationQuery` keys and the schema does not list.
 */
import type {
  AnnotationQuery,
  Dashboard,
  FieldConfig,
  FieldConfigSource,
  Panel,
  RowPanel,
  TableFieldOptions,
  TableOptions,
  VariableModel,
} from '@grafana/schema';
import type {
  FieldConfig as StateTimelineFieldConfig,
  Options as StateTimelineOptions,
} from '@grafana/schema/dist/esm/raw/composable/statetimeline/panelcfg/x/StateTimelinePanelCfg_types.gen';
import type { Options as StatOptions } from '@grafana/schema/dist/esm/raw/composable/stat/panelcfg/x/StatPanelCfg_types.gen';
import type {
  FieldConfig as TimeSeriesFieldConfig,
  Options as TimeSeriesOptions,
} from '@grafana/schema/dist/esm/raw/composable/timeseries/panelcfg/x/TimeSeriesPanelCfg_types.gen';

export type Json<T> = T extends string
  ? `${T}`
  : T extends number | boolean | null | undefined
    ? T
    : T extends Array<infer U>
      ? Array<Json<U>>
      : T extends object
        ? { [K in keyof T]: Json<T[K]> }
        : T;

export interface PrometheusTarget {
  refId: string;
  expr: string;
  datasource?: { type: 'prometheus'; uid: string };
  legendFormat?: string;
  instant?: boolean;
  range?: boolean;
  format?: 'time_series' | 'table' | 'heatmap';
  interval?: string;
  hide?: boolean;
  editorMode?: 'code' | 'builder';
}

export type PrometheusAnnotation = Json<AnnotationQuery> & {
  expr: string;
  step?: string;
  titleFormat?: string;
  textFormat?: string;
  tagKeys?: string;
  useValueForTime?: boolean;
};

type FieldConfigFor<Custom> = Json<Omit<FieldConfigSource, 'defaults'>> & {
  defaults: Json<Omit<FieldConfig, 'custom'>> & { custom?: Json<Custom> };
};

type PanelOf<Type extends string, Options, Custom> = Json<
  Omit<Panel, 'type' | 'options' | 'fieldConfig' | 'targets'>
> & {
  type: Type;
  options: Json<Options>;
  fieldConfig: FieldConfigFor<Custom>;
  targets: PrometheusTarget[];
};

export type CheckedPanel =
  | PanelOf<'timeseries', TimeSeriesOptions, TimeSeriesFieldConfig>
  | PanelOf<'stat', StatOptions, Record<string, never>>
  | PanelOf<'table', TableOptions, TableFieldOptions>
  | PanelOf<'state-timeline', StateTimelineOptions, StateTimelineFieldConfig>
  | (Json<Omit<RowPanel, 'panels'>> & { panels: [] });

export type CheckedDashboard = Json<Omit<Dashboard, 'panels' | 'templating' | 'annotations'>> & {
  uid: string;
  title: string;
  panels: CheckedPanel[];
  templating: { list: Array<Json<VariableModel>> };
  annotations: { list: PrometheusAnnotation[] };
};
