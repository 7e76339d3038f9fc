// Indicators for many series: one invocation per series walks its bars in
// order, doing what the CPU `step` does, in f32. Bars are time-major:
// bars[t * series + s] = (close, high, low, volume); outputs in 7 planes
// (sma, ema, rsi, bollinger mid/upper/lower, vwap), each time-major.

struct Params {
    series: u32,
    len: u32,
    sma_period: u32,
    ema_period: u32,
    rsi_period: u32,
    bollinger_period: u32,
    vwap_period: u32,
    bollinger_k: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> bars: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> outputs: array<f32>;

fn bar(t: u32, s: u32) -> vec4<f32> {
    return bars[t * params.series + s];
}

fn price_volume(b: vec4<f32>) -> f32 {
    return (b.y + b.z + b.x) / 3.0 * b.w;
}

@compute @workgroup_size(64)
fn indicators(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let s = (wid.y * nwg.x + wid.x) * 64u + lid;
    if s >= params.series {
        return;
    }
    let nan = bitcast<f32>(0x7fc00000u);
    let alpha = 2.0 / (f32(params.ema_period) + 1.0);
    var prev = 0.0;
    var ema = 0.0;
    var gain_avg = 0.0;
    var loss_avg = 0.0;
    var shift = 0.0;
    var bb_shift = 0.0;
    var sum_sma = 0.0;
    var sum_bb = 0.0;
    var sum_bb2 = 0.0;
    var sum_pv = 0.0;
    var sum_v = 0.0;
    var traded = 0.0;
    for (var t = 0u; t < params.len; t++) {
        let b = bar(t, s);
        let close = b.x;
        if t == 0u {
            shift = close;
            bb_shift = close;
            ema = close;
        } else {
            ema = ema + alpha * (close - ema);
            let d = close - prev;
            let m = f32(min(t, params.rsi_period));
            gain_avg = gain_avg + (max(d, 0.0) - gain_avg) / m;
            loss_avg = loss_avg + (max(-d, 0.0) - loss_avg) / m;
        }
        let x = close - shift;
        let xb = close - bb_shift;
        let pv = price_volume(b);
        sum_sma += x;
        sum_bb += xb;
        sum_bb2 += xb * xb;
        sum_pv += pv;
        sum_v += b.w;
        traded += select(0.0, 1.0, b.w > 0.0);
        if t >= params.sma_period {
            sum_sma -= bar(t - params.sma_period, s).x - shift;
        }
        if t >= params.bollinger_period {
            let y = bar(t - params.bollinger_period, s).x - bb_shift;
            sum_bb -= y;
            sum_bb2 -= y * y;
        }
        if t >= params.vwap_period {
            let old = bar(t - params.vwap_period, s);
            sum_pv -= price_volume(old);
            sum_v -= old.w;
            traded -= select(0.0, 1.0, old.w > 0.0);
        }
        let seen = t + 1u;
        if seen % params.bollinger_period == 0u {
            bb_shift = close;
            var s1 = 0.0;
            var s2 = 0.0;
            for (var age = 1u; age < params.bollinger_period; age++) {
                let y = bar(t - age, s).x - close;
                s1 += y;
                s2 += y * y;
            }
            sum_bb = s1;
            sum_bb2 = s2;
        }
        if seen % params.vwap_period == 0u {
            var s_pv = pv;
            var s_v = b.w;
            for (var age = 1u; age < params.vwap_period; age++) {
                let old = bar(t - age, s);
                s_pv += price_volume(old);
                s_v += old.w;
            }
            sum_pv = s_pv;
            sum_v = s_v;
        }
        var sma = nan;
        if seen >= params.sma_period {
            sma = sum_sma / f32(params.sma_period) + shift;
        }
        var rsi = nan;
        if t >= params.rsi_period {
            if loss_avg == 0.0 {
                rsi = select(100.0, 50.0, gain_avg == 0.0);
            } else {
                rsi = 100.0 - 100.0 / (1.0 + gain_avg / loss_avg);
            }
        }
        var mid = nan;
        var upper = nan;
        var lower = nan;
        if seen >= params.bollinger_period {
            let n = f32(params.bollinger_period);
            let m = sum_bb / n;
            let sd = sqrt(max(sum_bb2 / n - m * m, 0.0));
            mid = m + bb_shift;
            upper = mid + params.bollinger_k * sd;
            lower = mid - params.bollinger_k * sd;
        }
        var vwap = nan;
        if seen >= params.vwap_period && traded > 0.0 {
            vwap = sum_pv / sum_v;
        }
        prev = close;
        let plane = params.len * params.series;
        let o = t * params.series + s;
        outputs[o] = sma;
        outputs[o + plane] = ema;
        outputs[o + 2u * plane] = rsi;
        outputs[o + 3u * plane] = mid;
        outputs[o + 4u * plane] = upper;
        outputs[o + 5u * plane] = lower;
        outputs[o + 6u * plane] = vwap;
    }
}
